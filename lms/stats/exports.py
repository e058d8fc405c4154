"""Statistics exports for publication: CSV, XLSX and JSON, read from the counters, suppressed.

Each export is one breakdown for one fixed period: for each measure, a table with a row
per value of the dimension and a column per tier, with totals. Metadata in kk, ru, en.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.courses.models import Course
from lms.db import utcnow
from lms.reference import region_name, sector_name
from lms.stats import figures
from lms.stats.figures import Period
from lms.stats.metadata import LABELS, metadata
from lms.stats.suppression import Grid, suppress, with_margins

FORMATS = ("csv", "xlsx", "json")
TIERS = ("public", "specialist")
MEASURE_NAMES = ("completions", "new_trained", "new_specialists")
PRIMARY_MARK, SECONDARY_MARK = "<10", "x"


@dataclass
class Table:
    measure: str
    columns: list[str]  # tier columns and "total", or just "total"
    values: list[str]  # dimension values, then "total"
    labels: list[dict[str, str]]
    grid: Grid


def value_labels(session: Session, dimension: str, values: list[str]) -> list[dict[str, str]]:
    """Names of dimension values in kk, ru and en."""
    courses: dict[str, dict[str, str]] = {}
    if dimension == "course":
        for course in session.scalars(select(Course)):
            first = next(iter(course.title.values()), course.slug)
            courses[str(course.id)] = {lang: course.title.get(lang, first) for lang in LABELS}
    out = []
    for v in values:
        if dimension == "region":
            out.append({lang: region_name(v, lang) for lang in LABELS})
        elif dimension == "sector":
            out.append(
                {
                    lang: LABELS[lang]["none"] if v == "none" else sector_name(v, lang)
                    for lang in LABELS
                }
            )
        elif dimension == "course":
            out.append(courses.get(v, dict.fromkeys(LABELS, v)))
        else:
            out.append({lang: LABELS[lang].get(v, v) for lang in LABELS})
    return out


def tables(session: Session, *, dimension: str, period: Period) -> list[Table]:
    """The suppressed tables of one export (one per measure)."""
    values = figures.dimension_values(session, dimension)
    labels = value_labels(session, dimension, values) + [
        {lang: LABELS[lang]["total"] for lang in LABELS}
    ]
    one_dimensional = dimension == "tier"
    counts = figures.breakdown(
        session, dimension=dimension, period=period, by_tier=not one_dimensional
    )
    out = []
    for measure in MEASURE_NAMES:
        if one_dimensional:
            interior = [[counts.get((v,), {}).get(measure, 0)] for v in values]
            full = interior + [[sum(r[0] for r in interior)]]
            columns = ["total"]
        else:
            interior = [[counts.get((v, t), {}).get(measure, 0) for t in TIERS] for v in values]
            full = with_margins(interior)
            columns = [*TIERS, "total"]
        out.append(Table(measure, columns, [*values, "total"], labels, suppress(full)))
    return out


def shown(grid: Grid, r: int, c: int) -> int | str:
    if (r, c) in grid.primary:
        return PRIMARY_MARK
    if (r, c) in grid.secondary:
        return SECONDARY_MARK
    return grid.cells[r][c]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(label: str) -> str:
    """A label that a spreadsheet opening the CSV will show as text, never run as a formula
    (a course title is written by an instructor): a leading quote, as OWASP advises."""
    return "'" + label if label.startswith(FORMULA_START) else label


def _header(table: Table, dimension: str) -> list[str]:
    return ["measure", dimension, "label_kk", "label_ru", "label_en", *table.columns]


def csv_lines(
    session: Session, *, dimension: str, period: Period, extracted: datetime | None = None
) -> Iterator[str]:
    """The export as CSV lines (UTF-8); metadata first as ``#`` comment lines."""
    meta = metadata(dimension, period, extracted or utcnow())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    for lang in LABELS:
        for key, text in meta[lang].items():
            writer.writerow(
                [
                    f"# {lang}.{key}",
                    text if isinstance(text, str) else json.dumps(text, ensure_ascii=False),
                ]
            )
    yield flush()
    for i, table in enumerate(tables(session, dimension=dimension, period=period)):
        if i == 0:
            writer.writerow(_header(table, dimension))
        for r, value in enumerate(table.values):
            label = table.labels[r]
            writer.writerow(
                [
                    table.measure,
                    value,
                    *(as_text(label[lang]) for lang in LABELS),
                    *(shown(table.grid, r, c) for c in range(len(table.columns))),
                ]
            )
        yield flush()


def json_chunks(
    session: Session, *, dimension: str, period: Period, extracted: datetime | None = None
) -> Iterator[str]:
    """The export as JSON, in chunks; a suppressed cell is ``null`` with ``suppressed``."""
    meta = metadata(dimension, period, extracted or utcnow())
    yield '{"metadata": ' + json.dumps(meta, ensure_ascii=False) + ', "tables": ['
    for i, table in enumerate(tables(session, dimension=dimension, period=period)):
        rows = []
        for r, value in enumerate(table.values):
            cells = {}
            for c, column in enumerate(table.columns):
                hidden = (r, c) in table.grid.suppressed
                cells[column] = {
                    "value": None if hidden else table.grid.cells[r][c],
                    "suppressed": hidden,
                }
            rows.append({"value": value, "label": table.labels[r], "cells": cells})
        yield ("," if i else "") + json.dumps(
            {
                "measure": table.measure,
                "dimension": dimension,
                "columns": table.columns,
                "rows": rows,
            },
            ensure_ascii=False,
        )
    yield "]}"


def xlsx_file(
    session: Session, *, dimension: str, period: Period, extracted: datetime | None = None
) -> IO[bytes]:
    """The export as an XLSX workbook (written row by row), in a temporary file."""
    import xlsxwriter

    meta = metadata(dimension, period, extracted or utcnow())
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by chunks_of after streaming)
    # Strings stay strings: a course title such as "=HYPERLINK(...)" must not become a
    # formula in the ministry's spreadsheet.
    workbook = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    data = workbook.add_worksheet("data")
    row_no = 0
    for i, table in enumerate(tables(session, dimension=dimension, period=period)):
        if i == 0:
            data.write_row(row_no, 0, _header(table, dimension))
            row_no += 1
        for r, value in enumerate(table.values):
            label = table.labels[r]
            data.write_row(
                row_no,
                0,
                [
                    table.measure,
                    value,
                    label["kk"],
                    label["ru"],
                    label["en"],
                    *(shown(table.grid, r, c) for c in range(len(table.columns))),
                ],
            )
            row_no += 1
    sheet = workbook.add_worksheet("metadata")
    sheet.write_row(0, 0, ["language", "key", "text"])
    row_no = 1
    for lang in LABELS:
        for key, text in meta[lang].items():
            sheet.write_row(
                row_no,
                0,
                [
                    lang,
                    key,
                    text if isinstance(text, str) else json.dumps(text, ensure_ascii=False),
                ],
            )
            row_no += 1
    workbook.close()
    out.seek(0)
    return out


def chunks_of(handle: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """Read a file in chunks (streaming a response), closing it at the end."""
    with handle:
        while block := handle.read(size):
            yield block


WRITERS: dict[str, Callable[..., Iterator]] = {"csv": csv_lines, "json": json_chunks}
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def stream(session: Session, *, dimension: str, period: Period, fmt: str) -> Iterator[bytes]:
    """The export in format ``fmt`` as a stream of bytes."""
    if fmt == "xlsx":
        yield from chunks_of(xlsx_file(session, dimension=dimension, period=period))
        return
    for text in WRITERS[fmt](session, dimension=dimension, period=period):
        yield text.encode("utf-8")

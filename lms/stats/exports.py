"""Statistics exports for publication: CSV, XLSX and JSON, read from the counters, suppressed.

Each export is one breakdown for one fixed period: for each measure, a table with a row
per value of the dimension and a column per tier, with totals. Metadata in kk, ru, en.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy.orm import Session

from lms.db import utcnow
from lms.stats import dimensions, figures
from lms.stats.figures import Period
from lms.stats.metadata import DEFAULT_LICENSE, LABELS, datapackage, metadata, table_schema
from lms.stats.suppression import Grid, suppress, with_margins

FORMATS = ("csv", "xlsx", "json", "zip")
TIERS = dimensions.TIERS
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
    return dimensions.get(dimension).labels(session, values)


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


BOM = "\ufeff"  # lets Excel detect UTF-8 (kk and ru labels); pandas and frictionless skip it


def csv_lines(
    session: Session,
    *,
    dimension: str,
    period: Period,
    extracted: datetime | None = None,
    tables_: list[Table] | None = None,
) -> Iterator[str]:
    """The export as CSV: one table, a byte-order mark, the header first, then data rows.

    The metadata is in the data package (``datapackage.json``) and the XLSX sheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    listed = tables_ if tables_ is not None else tables(session, dimension=dimension, period=period)
    for i, table in enumerate(listed):
        if i == 0:
            writer.writerow(_header(table, dimension))
            yield BOM + flush()
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


def mark(grid: Grid, r: int, c: int) -> str | None:
    """``<10`` or ``x`` for a suppressed cell, else None."""
    value = shown(grid, r, c)
    return value if isinstance(value, str) else None


def json_chunks(
    session: Session, *, dimension: str, period: Period, extracted: datetime | None = None
) -> Iterator[str]:
    """The export as JSON, in chunks; a suppressed cell is ``null`` with ``suppressed`` and
    its ``mark`` (``<10`` or ``x``); ``schema`` is the Table Schema of the CSV."""
    meta = metadata(dimension, period, extracted or utcnow())
    yield (
        '{"metadata": '
        + json.dumps(meta, ensure_ascii=False)
        + ', "schema": '
        + json.dumps(table_schema(dimension), ensure_ascii=False)
        + ', "tables": ['
    )
    for i, table in enumerate(tables(session, dimension=dimension, period=period)):
        rows = []
        for r, value in enumerate(table.values):
            cells = {}
            for c, column in enumerate(table.columns):
                hidden = (r, c) in table.grid.suppressed
                cells[column] = {
                    "value": None if hidden else table.grid.cells[r][c],
                    "suppressed": hidden,
                    "mark": mark(table.grid, r, c),
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


def _width(texts: Iterable[object]) -> float:
    return min(60, max(8, *(len(str(t)) for t in texts)) + 2)


def xlsx_file(
    session: Session, *, dimension: str, period: Period, extracted: datetime | None = None
) -> IO[bytes]:
    """The export as an XLSX workbook (written row by row), in a temporary file.

    The header row is frozen and each column is as wide as its longest text."""
    import xlsxwriter

    meta = metadata(dimension, period, extracted or utcnow())
    listed = tables(session, dimension=dimension, period=period)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by chunks_of after streaming)
    # Strings stay strings: a course title such as "=HYPERLINK(...)" must not become a
    # formula in the ministry's spreadsheet.
    workbook = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    data = workbook.add_worksheet("data")
    rows: list[list[object]] = []
    for table in listed:
        for r, value in enumerate(table.values):
            label = table.labels[r]
            rows.append(
                [
                    table.measure,
                    value,
                    label["kk"],
                    label["ru"],
                    label["en"],
                    *(shown(table.grid, r, c) for c in range(len(table.columns))),
                ]
            )
    header = _header(listed[0], dimension)
    for c, name in enumerate(header):
        data.set_column(c, c, _width([name, *(row[c] for row in rows)]))
    data.freeze_panes(1, 0)
    data.write_row(0, 0, header)
    for row_no, row in enumerate(rows, start=1):
        data.write_row(row_no, 0, row)
    sheet = workbook.add_worksheet("metadata")
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 2, 100)
    sheet.freeze_panes(1, 0)
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


def csv_name(dimension: str, period: Period) -> str:
    return f"oqu-{dimension}-{period.text}.csv"


def zip_file(
    session: Session,
    *,
    dimension: str,
    period: Period,
    extracted: datetime | None = None,
    license_id: str = DEFAULT_LICENSE,
) -> IO[bytes]:
    """The export as a Frictionless data package: ``datapackage.json`` and the CSV."""
    extracted = extracted or utcnow()
    body = "".join(csv_lines(session, dimension=dimension, period=period)).encode("utf-8")
    descriptor = datapackage(
        dimension, period, extracted, resource=csv_name(dimension, period), license_id=license_id
    )
    return package_zip(descriptor, csv_name(dimension, period), body)


def package_zip(descriptor: dict, name: str, body: bytes) -> IO[bytes]:
    """A zip of ``datapackage.json`` and one CSV, with fixed timestamps (same bytes each time)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by chunks_of after streaming)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in (
            ("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2).encode()),
            (name, body),
        ):
            info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    out.seek(0)
    return out


def chunks_of(handle: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """Read a file in chunks (streaming a response), closing it at the end."""
    with handle:
        while block := handle.read(size):
            yield block


WRITERS: dict[str, Callable[..., Iterator]] = {"csv": csv_lines, "json": json_chunks}
# Full Content-Type values: passed as ``content_type`` (``mimetype`` would add a second
# charset to text/csv).
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


def stream(
    session: Session,
    *,
    dimension: str,
    period: Period,
    fmt: str,
    license_id: str = DEFAULT_LICENSE,
) -> Iterator[bytes]:
    """The export in format ``fmt`` as a stream of bytes."""
    if fmt == "xlsx":
        yield from chunks_of(xlsx_file(session, dimension=dimension, period=period))
        return
    if fmt == "zip":
        handle = zip_file(session, dimension=dimension, period=period, license_id=license_id)
        yield from chunks_of(handle)
        return
    for text in WRITERS[fmt](session, dimension=dimension, period=period):
        yield text.encode("utf-8")

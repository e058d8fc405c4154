"""Public open data: snapshots of completed quarters, protected across tables, stored once.

Protection (docs/architecture.md, "Open data"): every count of 1 to 9 is shown as ``<10``,
every other count is rounded to the nearest 10 (5 rounds up), and each total is rounded on
its own from its exact value. A reader who adds and subtracts every table of a quarter then
knows each cell only to an interval of at least five values, so no count of 1 to 9 can be
pinned (tests/stats/test_open_data.py checks this with an integer program). Analysts keep
their exact exports with cell suppression (``exports``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.db import utcnow
from lms.stats import dimensions, exports, figures, metadata
from lms.stats.figures import Period
from lms.stats.models import CubeCount, OpenDataSnapshot
from lms.stats.suppression import with_margins

MEASURES = ("completions", "new_trained", "new_specialists")
SMALL = "<10"
NAME = re.compile(r"(?P<dimension>[a-z_]+)-(?P<period>\d{4}-Q[1-4])(?:-v(?P<version>\d{1,4}))?")

PROTECTION = {
    "kk": (
        "Ашық деректер кестелер бойынша бірге қорғалған: 1-ден 9-ға дейінгі сан «<10» деп "
        "көрсетіледі, қалған әр сан ең жақын 10-ға дейін дөңгелектенеді (5 жоғары қарай), "
        "қорытындылар өз нақты мәнінен бөлек дөңгелектенеді, сондықтан бағандар мен "
        "жолдардың қосындысы қорытындыға дәл тең болмауы мүмкін. Нөл 0 ретінде көрсетіледі. "
        "Тек аяқталған тоқсандар жарияланады."
    ),
    "ru": (
        "Открытые данные защищены по всем таблицам сразу: число от 1 до 9 показано как "
        "«<10», любое другое число округлено до ближайшего десятка (5 — вверх), итоги "
        "округлены отдельно от своего точного значения, поэтому сумма строк и столбцов "
        "может не совпадать с итогом. Ноль показан как 0. Публикуются только завершённые "
        "кварталы."
    ),
    "en": (
        'Open data is protected across tables: a count of 1 to 9 is shown as "<10", every '
        "other count is rounded to the nearest 10 (5 rounds up), and totals are rounded on "
        "their own from their exact values, so rows and columns need not add up to their "
        "totals. Zero is shown as 0. Only completed quarters are published."
    ),
}
MISSING = {
    "kk": "«<10» — 1-ден 9-ға дейін",
    "ru": "«<10» — от 1 до 9",
    "en": '"<10": 1 to 9',
}


class UnknownSnapshot(LookupError):
    """No published snapshot by that name."""


def protect(count: int) -> int | str:
    """A public count: 0, ``<10`` for 1 to 9, else the nearest multiple of 10 (5 up)."""
    if count <= 0:
        return 0
    if count < 10:
        return SMALL
    return (count + 5) // 10 * 10


@dataclass
class PublicTable:
    measure: str
    columns: list[str]
    values: list[str]  # dimension values, then "total"
    exact: list[list[int]]  # with margins (last row and column)

    def shown(self) -> list[list[int | str]]:
        return [[protect(n) for n in row] for row in self.exact]


def public_tables(session: Session, *, dimension: str, period: Period) -> list[PublicTable]:
    """The tables of one dimension for one period, exact (protected by ``shown``)."""
    values = figures.dimension_values(session, dimension)
    one_dimensional = dimension == "tier"
    counts = figures.breakdown(
        session, dimension=dimension, period=period, by_tier=not one_dimensional
    )
    out = []
    for measure in MEASURES:
        if one_dimensional:
            interior = [[counts.get((v,), {}).get(measure, 0)] for v in values]
            full = interior + [[sum(r[0] for r in interior)]]
            columns = ["total"]
        else:
            interior = [
                [counts.get((v, t), {}).get(measure, 0) for t in dimensions.TIERS] for v in values
            ]
            full = with_margins(interior)
            columns = [*dimensions.TIERS, "total"]
        out.append(PublicTable(measure, columns, [*values, "total"], full))
    return out


def public_csv(session: Session, *, dimension: str, period: Period) -> bytes:
    """The public table as CSV (byte-order mark, header first), as in the analysts' export."""
    listed = public_tables(session, dimension=dimension, period=period)
    labels = exports.value_labels(session, dimension, listed[0].values[:-1]) + [
        {lang: dimensions.LABELS[lang]["total"] for lang in dimensions.LANGUAGES}
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["measure", dimension, "label_kk", "label_ru", "label_en", *listed[0].columns])
    for table in listed:
        for value, label, row in zip(table.values, labels, table.shown(), strict=True):
            writer.writerow(
                [
                    table.measure,
                    value,
                    *(exports.as_text(label[lang]) for lang in dimensions.LANGUAGES),
                    *row,
                ]
            )
    return (exports.BOM + buffer.getvalue()).encode("utf-8")


def completed_quarters(session: Session, *, today: date) -> list[Period]:
    """Every quarter that has ended before ``today`` (Almaty), from the first counted month."""
    first = session.scalar(select(func.min(CubeCount.month)))
    if not first:
        return []
    year, quarter = int(first[:4]), (int(first[5:7]) - 1) // 3 + 1
    current = (today.year, (today.month - 1) // 3 + 1)
    out = []
    while (year, quarter) < current:
        out.append(Period.parse(f"{year}-Q{quarter}"))
        year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    return out


def latest(session: Session, *, dimension: str, period: str) -> OpenDataSnapshot | None:
    """The newest version of a published table."""
    return session.scalar(
        select(OpenDataSnapshot)
        .where(OpenDataSnapshot.dimension == dimension, OpenDataSnapshot.period == period)
        .order_by(OpenDataSnapshot.version.desc())
        .limit(1)
    )


def file_name(snapshot: OpenDataSnapshot, *, versioned: bool = False) -> str:
    suffix = f"-v{snapshot.version}" if versioned else ""
    return f"{snapshot.dimension}-{snapshot.period}{suffix}.zip"


def csv_of(snapshot: OpenDataSnapshot) -> bytes:
    """The CSV inside a stored snapshot."""
    with zipfile.ZipFile(io.BytesIO(snapshot.package)) as archive:
        return archive.read(f"oqu-{snapshot.dimension}-{snapshot.period}.csv")


def changes_between(old: bytes, new: bytes) -> str:
    """What differs between two versions of a public CSV, one line per changed cell."""

    def cells(body: bytes) -> dict[tuple[str, str, str], str]:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        header, out = rows[0], {}
        for row in rows[1:]:
            for column, text in zip(header[5:], row[5:], strict=True):
                out[(row[0], row[1], column)] = text
        return out

    before, after = cells(old), cells(new)
    lines = [
        f"{measure} {value} {column}: {before.get(k, '-')} -> {after.get(k, '-')}"
        for k in sorted(set(before) | set(after))
        for measure, value, column in [k]
        if before.get(k) != after.get(k)
    ]
    shown = lines[:40]
    if len(lines) > len(shown):
        shown.append(f"... and {len(lines) - len(shown)} more cells")
    return "\n".join(shown)


def descriptor(
    dimension: str,
    period: Period,
    extracted: datetime,
    *,
    license_id: str,
    version: int,
    changes: str,
) -> dict:
    """The ``datapackage.json`` of a public snapshot: protection instead of suppression."""
    meta = metadata.metadata(dimension, period, extracted)
    out = metadata.datapackage(
        dimension,
        period,
        extracted,
        resource=f"oqu-{dimension}-{period.text}.csv",
        license_id=license_id,
        extra={"version": str(version), "changes": changes},
    )

    def description(lang: str) -> str:
        m = meta[lang]
        return "\n\n".join([m["measures"], PROTECTION[lang], m["text_labels"], m["revision"]])

    out["description"] = description("en")
    out["descriptions"] = {lang: description(lang) for lang in dimensions.LANGUAGES}
    schema = out["resources"][0]["schema"]
    schema["missingValues"] = [SMALL]
    for field in schema["fields"]:
        if field["type"] == "integer":
            field["description"] = field["description"].split(". ")[0] + ". " + MISSING["en"]
            field["descriptions"] = {
                lang: text.split(". ")[0] + ". " + MISSING[lang]
                for lang, text in field["descriptions"].items()
            }
    return out


def publish(
    session: Session,
    *,
    today: date,
    license_id: str = metadata.DEFAULT_LICENSE,
    now: datetime | None = None,
) -> list[OpenDataSnapshot]:
    """Publish every dimension of every completed quarter whose public table is new or has
    changed since its last version; a changed one becomes the next version, saying what
    changed. Published versions are never rewritten. Flushes; never commits."""
    now = now or utcnow()
    made = []
    for period in completed_quarters(session, today=today):
        for dimension in dimensions.NAMES:
            body = public_csv(session, dimension=dimension, period=period)
            digest = hashlib.sha256(body).hexdigest()
            before = latest(session, dimension=dimension, period=period.text)
            if before is not None and before.csv_sha256 == digest:
                continue
            version = before.version + 1 if before else 1
            changes = changes_between(csv_of(before), body) if before else ""
            package = exports.package_zip(
                descriptor(
                    dimension,
                    period,
                    now,
                    license_id=license_id,
                    version=version,
                    changes=changes,
                ),
                f"oqu-{dimension}-{period.text}.csv",
                body,
            ).read()
            snapshot = OpenDataSnapshot(
                dimension=dimension,
                period=period.text,
                version=version,
                extracted_at=now,
                license=license_id,
                changes=changes,
                sha256=hashlib.sha256(package).hexdigest(),
                csv_sha256=digest,
                size=len(package),
                package=package,
            )
            session.add(snapshot)
            made.append(snapshot)
    session.flush()
    return made


def find(session: Session, *, name: str) -> OpenDataSnapshot:
    """The snapshot named ``<dimension>-<period>`` (latest) or ``...-v<N>``."""
    match = NAME.fullmatch(name)
    if not match or match["dimension"] not in dimensions.REGISTRY:
        raise UnknownSnapshot(name)
    if match["version"]:
        found = session.scalar(
            select(OpenDataSnapshot).where(
                OpenDataSnapshot.dimension == match["dimension"],
                OpenDataSnapshot.period == match["period"],
                OpenDataSnapshot.version == int(match["version"]),
            )
        )
    else:
        found = latest(session, dimension=match["dimension"], period=match["period"])
    if found is None:
        raise UnknownSnapshot(name)
    return found


def listing(session: Session) -> list[OpenDataSnapshot]:
    """Every published version without its bytes' use: newest period first."""
    return list(
        session.scalars(
            select(OpenDataSnapshot).order_by(
                OpenDataSnapshot.period.desc(),
                OpenDataSnapshot.dimension,
                OpenDataSnapshot.version.desc(),
            )
        )
    )


def catalog(
    snapshots: list[OpenDataSnapshot], *, base_url: str, license_id: str
) -> dict[str, object]:
    """The DCAT catalogue (JSON-LD) of the latest version of every published table."""
    base = base_url.rstrip("/")
    path, _title = metadata.LICENSES.get(license_id, ("", license_id))
    newest: dict[tuple[str, str], OpenDataSnapshot] = {}
    for s in snapshots:
        key = (s.dimension, s.period)
        if key not in newest or s.version > newest[key].version:
            newest[key] = s

    def texts(by_lang: dict[str, str]) -> list[dict[str, str]]:
        return [{"@value": text, "@language": lang} for lang, text in by_lang.items()]

    datasets = []
    for (dimension, period_text), s in sorted(newest.items(), key=lambda kv: kv[0]):
        period = Period.parse(period_text)
        meta = metadata.metadata(dimension, period, s.extracted_at)
        url = f"{base}/open-data/{file_name(s, versioned=True)}"
        datasets.append(
            {
                "@id": f"{base}/open-data/{dimension}-{period_text}",
                "@type": "dcat:Dataset",
                "dct:identifier": f"oqu-{dimension}-{period_text}",
                "dct:title": texts({lang: meta[lang]["dataset"] for lang in meta}),
                "dct:description": texts(PROTECTION),
                "dct:issued": {"@value": s.extracted_at.isoformat(), "@type": "xsd:dateTime"},
                "dct:temporal": {
                    "@type": "dct:PeriodOfTime",
                    "dcat:startDate": {"@value": f"{period.months[0]}-01", "@type": "xsd:date"},
                    "dcat:endDate": {"@value": _quarter_end(period), "@type": "xsd:date"},
                },
                "dct:license": {"@id": path or license_id},
                "owl:versionInfo": str(s.version),
                "adms:versionNotes": s.changes or "first publication",
                "dcat:keyword": ["AI skills", "training", dimension],
                "dcat:distribution": [
                    {
                        "@id": url,
                        "@type": "dcat:Distribution",
                        "dcat:downloadURL": {"@id": url},
                        "dcat:mediaType": {
                            "@id": "https://www.iana.org/assignments/media-types/application/zip"
                        },
                        "dct:format": "Frictionless Data Package (zip)",
                        "dct:conformsTo": {"@id": metadata.PACKAGE_PROFILE},
                        "dcat:byteSize": {
                            "@value": s.size,
                            "@type": "xsd:nonNegativeInteger",
                        },
                        "spdx:checksum": {
                            "@type": "spdx:Checksum",
                            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                            "spdx:checksumValue": s.sha256,
                        },
                    }
                ],
            }
        )
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "owl": "http://www.w3.org/2002/07/owl#",
            "adms": "http://www.w3.org/ns/adms#",
            "spdx": "http://spdx.org/rdf/terms#",
        },
        "@id": f"{base}/open-data/catalog.json",
        "@type": "dcat:Catalog",
        "dct:title": texts(
            {
                "kk": "Oqu ашық деректері: ЖИ дағдыларын оқыту",
                "ru": "Открытые данные Oqu: обучение навыкам ИИ",
                "en": "Oqu open data: AI skills training",
            }
        ),
        "dct:description": texts(PROTECTION),
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": "Oqu"},
        "dct:license": {"@id": path or license_id},
        "dcat:dataset": datasets,
    }


def _quarter_end(period: Period) -> str:
    year, month = int(period.months[-1][:4]), int(period.months[-1][5:])
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return f"{period.months[-1]}-{last:02d}"


def package_json(snapshot: OpenDataSnapshot) -> dict:
    """The ``datapackage.json`` of a stored snapshot."""
    with zipfile.ZipFile(io.BytesIO(snapshot.package)) as archive:
        result: dict = json.loads(archive.read("datapackage.json"))
        return result

"""Metadata of published statistics, in Kazakh, Russian and English (data, not UI text)."""

from __future__ import annotations

from datetime import datetime

from lms.stats import dimensions
from lms.stats.figures import Period

LABELS = dimensions.LABELS


def _noun(dimension: str, lang: str) -> str:
    return dimensions.get(dimension).noun[lang]


TEXT = {
    "kk": {
        "dataset": "Oqu: ЖИ дағдыларын оқыту статистикасы, {dim} бойынша, {period} кезеңі",
        "measures": (
            "completions — аяқталған курстар саны; new_trained — кезеңде алғаш рет "
            "кез келген курсты аяқтаған адамдар (5 млн мақсатына); new_specialists — "
            "алғаш рет мамандар курсын аяқтаған адамдар (500 мың мақсатына)"
        ),
        "suppression": (
            "1-ден 9-ға дейінгі ұяшықтар «<10» деп көрсетіледі (JSON: null, "
            '"suppressed": true). Қосымша жасырылған ұяшықтар «x» деп '
            "көрсетіледі, олардың мәні 10 немесе одан көп. Ұяшықтар жолдар мен "
            "бағандардың қорытындылары мен осы белгілер бойынша әрбір жасырын "
            "мәннің кемінде үш мүмкін мәні қалатындай жасырылады. Нөл 0 ретінде "
            "көрсетіледі."
        ),
        "residual_risk": (
            "Қалдық тәуекел: әртүрлі кестелер мен кезеңдерді бір-бірінен алу "
            "(мысалы, тоқсаннан оның екі айын) жасырын мәнді ашуы мүмкін."
        ),
        "text_labels": (
            "CSV файлында =, +, - немесе @ белгісінен басталатын атаудың алдына ' "
            "қойылады: электрондық кесте оны формула емес, мәтін ретінде көрсетеді."
        ),
        "spreadsheets": (
            "CSV файлы UTF-8 кодтауында (BOM белгісімен), бөлгіші — үтір. Тізім бөлгіші "
            "нүктелі үтір болатын Excel үшін XLSX файлын пайдаланыңыз."
        ),
        "revision": (
            "Сандар алынған күнгі жағдай бойынша; түзетулер (жойылған аяқтаулар, "
            "біріктірілген тұлғалар) кейінгі сандарды өзгертуі мүмкін."
        ),
    },
    "ru": {
        "dataset": "Oqu: статистика обучения навыкам ИИ, по признаку «{dim}», период {period}",
        "measures": (
            "completions — число завершённых курсов; new_trained — люди, впервые "
            "завершившие любой курс в периоде (цель 5 млн); new_specialists — люди, "
            "впервые завершившие курс для специалистов (цель 500 тыс.)"
        ),
        "suppression": (
            "Ячейки со значениями от 1 до 9 показаны как «<10» (JSON: null, "
            '"suppressed": true). Дополнительно скрытые ячейки показаны как '
            "«x», их значение 10 или больше. Ячейки скрываются так, чтобы по итогам "
            "строк и столбцов и этим пометкам у каждого скрытого значения "
            "оставалось не меньше трёх возможных значений. Ноль показан как 0."
        ),
        "residual_risk": (
            "Остаточный риск: вычитание разных таблиц и периодов друг из друга "
            "(например, двух месяцев из квартала) может раскрыть скрытое значение."
        ),
        "text_labels": (
            "В CSV перед названием, начинающимся с =, +, - или @, стоит ': "
            "электронная таблица покажет его как текст, а не формулу."
        ),
        "spreadsheets": (
            "CSV в кодировке UTF-8 (с меткой BOM), разделитель — запятая. Если в Excel "
            "разделитель списка — точка с запятой, используйте файл XLSX."
        ),
        "revision": (
            "Данные на дату выгрузки; поправки (аннулированные завершения, "
            "объединённые лица) могут изменить последующие цифры."
        ),
    },
    "en": {
        "dataset": "Oqu: AI skills training statistics by {dim}, period {period}",
        "measures": (
            "completions: courses completed; new_trained: people who completed "
            "their first course of any tier in the period (5M target); "
            "new_specialists: people who completed their first specialist course "
            "(500K target)"
        ),
        "suppression": (
            'Cells counting 1 to 9 are shown as "<10" (JSON: null with '
            '"suppressed": true). Further hidden cells are shown as "x" and '
            "count 10 or more. Cells are hidden so that, from the row and column "
            "totals and these marks, every hidden value keeps at least three "
            "possible values. Zero is shown as 0."
        ),
        "residual_risk": (
            "Residual risk: subtracting tables or periods from one another "
            "(a quarter minus two of its months) may reveal a hidden value."
        ),
        "text_labels": (
            "In CSV, a label that begins with =, +, - or @ is preceded by ' so "
            "that spreadsheets show it as text, never run it as a formula."
        ),
        "spreadsheets": (
            "The CSV is UTF-8 (with a byte-order mark), separated by commas. Where Excel's "
            "list separator is a semicolon, use the XLSX file."
        ),
        "revision": (
            "Figures are as of the extraction date; corrections (annulled "
            "completions, merged persons) may revise later figures."
        ),
    },
}

FIELD_TEXT = {
    "kk": {
        "measure": "көрсеткіш",
        "label": "атауы",
        "count": "сан немесе «<10» / «x»",
        "value": "код",
    },
    "ru": {
        "measure": "показатель",
        "label": "название",
        "count": "число или «<10» / «x»",
        "value": "код",
    },
    "en": {
        "measure": "measure",
        "label": "name",
        "count": 'count, or "<10" / "x"',
        "value": "code",
    },
}


def fields(dimension: str, lang: str) -> list[dict[str, str]]:
    """Field names, types and meanings of the exported table."""
    t = FIELD_TEXT[lang]
    out = [
        {"name": "measure", "type": "string", "description": t["measure"]},
        {
            "name": dimension,
            "type": "string",
            "description": f"{_noun(dimension, lang)} ({t['value']})",
        },
    ]
    out += [
        {"name": f"label_{code}", "type": "string", "description": f"{t['label']} ({code})"}
        for code in ("kk", "ru", "en")
    ]
    columns = ["total"] if dimension == "tier" else ["public", "specialist", "total"]
    out += [
        {"name": c, "type": "integer", "description": f"{LABELS[lang][c]}: {t['count']}"}
        for c in columns
    ]
    return out


def metadata(dimension: str, period: Period, extracted: datetime) -> dict[str, dict]:
    """The export's metadata in kk, ru and en."""
    out = {}
    for lang, text in TEXT.items():
        out[lang] = {
            "dataset": text["dataset"].format(dim=_noun(dimension, lang), period=period.text),
            "period": period.text,
            "extracted_at": extracted.isoformat(timespec="seconds"),
            "fields": fields(dimension, lang),
            "measures": text["measures"],
            "suppression": text["suppression"],
            "residual_risk": text["residual_risk"],
            "text_labels": text["text_labels"],
            "revision": text["revision"],
            "spreadsheets": text["spreadsheets"],
        }
    return out


# Data Package and Table Schema v2 (frictionless-py 5.21 validates against these profiles).
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
MISSING_VALUES = ["<10", "x"]
DEFAULT_LICENSE = "CC-BY-4.0"
LICENSES = {
    "CC-BY-4.0": (
        "https://creativecommons.org/licenses/by/4.0/",
        "Creative Commons Attribution 4.0",
    ),
    "CC0-1.0": (
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "CC0 1.0 Universal",
    ),
    "ODC-BY-1.0": (
        "https://opendatacommons.org/licenses/by/1-0/",
        "Open Data Commons Attribution License 1.0",
    ),
}
SOURCE = {
    "title": "Oqu, national platform for AI skills: completion counters",
    "path": "https://oqu.kz/",
}
MISSING_TEXT = {
    "kk": "«<10» — 1-ден 9-ға дейін (жасырылған); «x» — 10 немесе одан көп (қосымша жасырылған)",
    "ru": "«<10» — от 1 до 9 (скрыто); «x» — 10 или больше (скрыто дополнительно)",
    "en": '"<10": 1 to 9 (suppressed); "x": 10 or more (further suppressed)',
}


def license_of(license_id: str) -> dict[str, str]:
    """A Data Package ``licenses`` entry for an SPDX id (unknown ids keep only the name)."""
    path, title = LICENSES.get(license_id, ("", license_id))
    out = {"name": license_id, "title": title}
    if path:
        out["path"] = path
    return out


def table_schema(dimension: str) -> dict:
    """The Table Schema of an export's CSV: fields, missing values, primary key."""
    fields_en = fields(dimension, "en")
    out_fields = []
    for i, field in enumerate(fields_en):
        entry: dict = {"name": field["name"], "type": field["type"]}
        entry["description"] = field["description"]
        entry["descriptions"] = {lang: fields(dimension, lang)[i]["description"] for lang in TEXT}
        if field["type"] == "integer":
            entry["description"] += ". " + MISSING_TEXT["en"]
            entry["descriptions"] = {
                lang: text + ". " + MISSING_TEXT[lang]
                for lang, text in entry["descriptions"].items()
            }
            entry["constraints"] = {"minimum": 0}
        if field["name"] == "measure":
            entry["constraints"] = {"enum": ["completions", "new_trained", "new_specialists"]}
        out_fields.append(entry)
    return {
        "$schema": SCHEMA_PROFILE,
        "fields": out_fields,
        "missingValues": MISSING_VALUES,
        "primaryKey": ["measure", dimension],
    }


def package_name(dimension: str, period: Period) -> str:
    return f"oqu-{dimension}-{period.text}".lower().replace("_", "-")


def datapackage(
    dimension: str,
    period: Period,
    extracted: datetime,
    *,
    resource: str,
    license_id: str = DEFAULT_LICENSE,
    extra: dict | None = None,
) -> dict:
    """The ``datapackage.json`` of an export: English title and description, kk and ru in
    ``titles`` and ``descriptions``, period, extraction time, licence, source, schema."""
    meta = metadata(dimension, period, extracted)

    def description(lang: str) -> str:
        m = meta[lang]
        return "\n\n".join(
            m[k]
            for k in (
                "measures",
                "suppression",
                "residual_risk",
                "text_labels",
                "spreadsheets",
                "revision",
            )
        )

    name = package_name(dimension, period)
    return {
        "$schema": PACKAGE_PROFILE,
        "name": name,
        "title": meta["en"]["dataset"],
        "description": description("en"),
        "titles": {lang: meta[lang]["dataset"] for lang in TEXT},
        "descriptions": {lang: description(lang) for lang in TEXT},
        "period": period.text,
        "created": extracted.isoformat(timespec="seconds"),
        "extracted_at": extracted.isoformat(timespec="seconds"),
        "licenses": [license_of(license_id)],
        "sources": [SOURCE],
        "keywords": ["AI skills", "training", "Kazakhstan", dimension],
        **(extra or {}),
        "resources": [
            {
                "name": name,
                "type": "table",
                "path": resource,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": meta["en"]["dataset"],
                "schema": table_schema(dimension),
            }
        ],
    }

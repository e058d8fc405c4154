"""The statistics dimensions: one registry entry each (CONTRIBUTING.md, "How to add a
statistics dimension").

A dimension names the counter cube that answers it and the cube's key column that holds
its value, its values in display order and their labels in kk, ru and en. Figures, the
dashboard, the exports, their metadata and the API's schema all read this registry; no
other module reads the cube's generic key columns (``k1``, ``k2``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.courses.models import Course
from lms.stats.models import CubeCount
from lms.stats.services import AGE_BANDS

LANGUAGES = ("kk", "ru", "en")
SEXES = ("female", "male", "not_stated")
TIERS = ("public", "specialist")

# Names of coded values (data published with the statistics, not UI text).
LABELS: dict[str, dict[str, str]] = {
    "kk": {
        "total": "Барлығы",
        "public": "Жалпы деңгей",
        "specialist": "Мамандар деңгейі",
        "female": "Әйел",
        "male": "Ер",
        "not_stated": "Көрсетілмеген",
        "kk": "Қазақ тілі",
        "ru": "Орыс тілі",
        "en": "Ағылшын тілі",
        "none": "Жұмыс істемейді, оқиды немесе зейнеткер",
    },
    "ru": {
        "total": "Итого",
        "public": "Общий уровень",
        "specialist": "Уровень специалистов",
        "female": "Женский",
        "male": "Мужской",
        "not_stated": "Не указан",
        "kk": "Казахский язык",
        "ru": "Русский язык",
        "en": "Английский язык",
        "none": "Не работает, учится или на пенсии",
    },
    "en": {
        "total": "Total",
        "public": "Public tier",
        "specialist": "Specialist tier",
        "female": "Female",
        "male": "Male",
        "not_stated": "Not stated",
        "kk": "Kazakh",
        "ru": "Russian",
        "en": "English",
        "none": "Not employed, studying or retired",
    },
}

# What the generic key columns of each cube hold (the counters write them in this order).
CUBE_KEYS: dict[str, dict[str, str]] = {
    "region": {"region": "region", "tier": "tier"},
    "sector": {"region": "region", "tier": "tier", "sector": "k1"},
    "sex_age": {"region": "region", "tier": "tier", "sex": "k1", "age_band": "k2"},
    "course": {"region": "region", "tier": "tier", "course": "k1", "language": "k2"},
}

Labels = list[dict[str, str]]


@dataclass(frozen=True)
class Dimension:
    """One breakdown of the counts: where its counts are kept and how its values read."""

    name: str
    title: dict[str, str]  # a heading, kk / ru / en
    noun: dict[str, str]  # the same inside a sentence
    cube: str
    key: str  # the cube's key that holds the value (see CUBE_KEYS)
    values: Callable[[Session], list[str]]
    labels: Callable[[Session, list[str]], Labels]

    @property
    def column(self) -> Any:
        """The counter column (``InstrumentedAttribute``) holding this dimension's value."""
        return getattr(CubeCount, CUBE_KEYS[self.cube][self.key])


def _coded(_session: Session, values: list[str]) -> Labels:
    return [{lang: LABELS[lang].get(v, v) for lang in LANGUAGES} for v in values]


def _regions(_session: Session) -> list[str]:
    from lms.reference import regions

    return [r.code for r in regions()]


def _region_labels(_session: Session, values: list[str]) -> Labels:
    from lms.reference import region_name

    return [{lang: region_name(v, lang) for lang in LANGUAGES} for v in values]


def _sectors(_session: Session) -> list[str]:
    from lms.reference import sectors

    return [s.code for s in sectors()] + ["none"]


def _sector_labels(_session: Session, values: list[str]) -> Labels:
    from lms.reference import sector_name

    return [
        {lang: LABELS[lang]["none"] if v == "none" else sector_name(v, lang) for lang in LANGUAGES}
        for v in values
    ]


def _courses(session: Session) -> list[str]:
    return [str(i) for i in session.scalars(select(Course.id).order_by(Course.slug))]


def _course_labels(session: Session, values: list[str]) -> Labels:
    titles: dict[str, dict[str, str]] = {}
    for course in session.scalars(select(Course)):
        first = next(iter(course.title.values()), course.slug)
        titles[str(course.id)] = {lang: course.title.get(lang, first) for lang in LANGUAGES}
    return [titles.get(v, dict.fromkeys(LANGUAGES, v)) for v in values]


def _fixed(values: tuple[str, ...]) -> Callable[[Session], list[str]]:
    return lambda _session: list(values)


REGISTRY: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension(
            "region",
            {"kk": "Өңір", "ru": "Регион", "en": "Region"},
            {"kk": "өңір", "ru": "регион", "en": "region"},
            "region",
            "region",
            _regions,
            _region_labels,
        ),
        Dimension(
            "tier",
            {"kk": "Деңгей", "ru": "Уровень", "en": "Tier"},
            {"kk": "курс деңгейі", "ru": "уровень курса", "en": "course tier"},
            "region",
            "tier",
            _fixed(TIERS),
            _coded,
        ),
        Dimension(
            "sector",
            {"kk": "Сала", "ru": "Отрасль", "en": "Sector"},
            {
                "kk": "экономика саласы (ЭҚЖЖ)",
                "ru": "отрасль экономики (ОКЭД)",
                "en": "economic sector (OKED)",
            },
            "sector",
            "sector",
            _sectors,
            _sector_labels,
        ),
        Dimension(
            "sex",
            {"kk": "Жынысы", "ru": "Пол", "en": "Sex"},
            {"kk": "жынысы", "ru": "пол", "en": "sex"},
            "sex_age",
            "sex",
            _fixed(SEXES),
            _coded,
        ),
        Dimension(
            "age_band",
            {"kk": "Жас тобы", "ru": "Возрастная группа", "en": "Age band"},
            {"kk": "жас тобы", "ru": "возрастная группа", "en": "age band"},
            "sex_age",
            "age_band",
            _fixed(AGE_BANDS),
            _coded,
        ),
        Dimension(
            "course",
            {"kk": "Курс", "ru": "Курс", "en": "Course"},
            {"kk": "курс", "ru": "курс", "en": "course"},
            "course",
            "course",
            _courses,
            _course_labels,
        ),
        Dimension(
            "language",
            {"kk": "Оқу тілі", "ru": "Язык обучения", "en": "Language of study"},
            {"kk": "оқу тілі", "ru": "язык обучения", "en": "language of study"},
            "course",
            "language",
            _fixed(LANGUAGES),
            _coded,
        ),
    )
}
NAMES = tuple(REGISTRY)


def get(name: str) -> Dimension:
    """The registry entry of a dimension (KeyError for an unknown name)."""
    return REGISTRY[name]


def tier_column() -> Any:
    return REGISTRY["tier"].column


def region_column() -> Any:
    return REGISTRY["region"].column

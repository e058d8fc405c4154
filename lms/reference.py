"""Reference data shipped with the platform: regions and economic sectors."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent / "reference"

NO_SECTOR = "none"


@dataclass(frozen=True)
class Region:
    code: str
    name_en: str
    name_kk: str
    name_ru: str
    population_thousands: int

    def name(self, locale: str) -> str:
        return {"kk": self.name_kk, "ru": self.name_ru}.get(locale, self.name_en)


@dataclass(frozen=True)
class Sector:
    code: str
    name_en: str
    name_ru: str
    name_kk: str

    def name(self, locale: str) -> str:
        return {"kk": self.name_kk, "ru": self.name_ru}.get(locale, self.name_en)


@cache
def regions() -> tuple[Region, ...]:
    """Kazakhstan's 20 first-level units as of 2024."""
    with (HERE / "kz_regions_2024.csv").open(encoding="utf-8") as handle:
        return tuple(
            Region(
                code=row["iso_3166_2"],
                name_en=row["name_en"],
                name_kk=row["name_kk"],
                name_ru=row["name_ru_official"],
                population_thousands=int(row["population_thousands_approx"]),
            )
            for row in csv.DictReader(handle)
        )


@cache
def sectors() -> tuple[Sector, ...]:
    """The 21 OKED sections, A to U."""
    with (HERE / "oked_sections.csv").open(encoding="utf-8") as handle:
        return tuple(
            Sector(
                code=row["code"],
                name_en=row["name_en"],
                name_ru=row["name_ru"],
                name_kk=row["name_kk"],
            )
            for row in csv.DictReader(handle)
        )


@cache
def region_codes() -> frozenset[str]:
    return frozenset(r.code for r in regions())


@cache
def sector_codes() -> frozenset[str]:
    """OKED sections plus ``none`` (not employed, studying or retired)."""
    return frozenset(s.code for s in sectors()) | {NO_SECTOR}


def region_name(code: str, locale: str) -> str:
    for region in regions():
        if region.code == code:
            return region.name(locale)
    return code


def sector_name(code: str, locale: str) -> str:
    for sector in sectors():
        if sector.code == code:
            return sector.name(locale)
    return code


def iin_is_valid(iin: str) -> bool:
    """True when ``iin`` is 12 digits whose last is the check digit of the first eleven."""
    if len(iin) != 12 or not iin.isascii() or not iin.isdigit():
        return False
    digits = [int(c) for c in iin]
    check = sum(w * d for w, d in zip(range(1, 12), digits[:11], strict=True)) % 11
    if check == 10:
        weights = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
        check = sum(w * d for w, d in zip(weights, digits[:11], strict=True)) % 11
        if check == 10:
            return False
    return digits[11] == check

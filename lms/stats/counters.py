"""The counter tables: which cells a completion falls in, and adding to them by upsert."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lms.stats.models import Completion, CubeCount, DailyCount

MEASURES = ("completions", "new_trained", "new_specialists")
CUBES = ("region", "sector", "sex_age", "course")
DAILY_KEY = ("day", "tier")
CUBE_KEY = ("cube", "month", "tier", "region", "k1", "k2")


@dataclass(frozen=True)
class FactAttributes:
    """What the counters need of a completion fact (a row or a plain tuple in bulk paths)."""

    day: Any
    tier: str
    region: str
    sector: str
    sex: str
    age_band: str
    course_id: int
    language: str

    @classmethod
    def of(cls, fact: Completion) -> FactAttributes:
        return cls(
            fact.day,
            str(fact.tier),
            fact.region,
            fact.sector,
            fact.sex,
            fact.age_band,
            fact.course_id,
            fact.language,
        )


def cube_keys(f: FactAttributes) -> list[tuple[str, str, str, str, str, str]]:
    """The four monthly cube cells one completion falls in."""
    month = f.day.isoformat()[:7]
    return [
        ("region", month, f.tier, f.region, "", ""),
        ("sector", month, f.tier, f.region, f.sector, ""),
        ("sex_age", month, f.tier, f.region, f.sex, f.age_band),
        ("course", month, f.tier, f.region, str(f.course_id), f.language),
    ]


class Deltas:
    """Changes to counter cells gathered in memory, written with one upsert per table."""

    def __init__(self) -> None:
        self.daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.cube: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(
        self, f: FactAttributes, *, completions: int = 0, trained: int = 0, specialists: int = 0
    ) -> None:
        change = (completions, trained, specialists)
        for cell in (self.daily[(f.day, f.tier)], *(self.cube[k] for k in cube_keys(f))):
            for i, value in enumerate(change):
                cell[i] += value

    def flush(self, session: Session) -> None:
        """Write the gathered changes and forget them."""
        upsert_add(session, cast(Table, DailyCount.__table__), DAILY_KEY, self.daily)
        upsert_add(session, cast(Table, CubeCount.__table__), CUBE_KEY, self.cube)
        self.daily.clear()
        self.cube.clear()


def _insert_for(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"no upsert for the {name} dialect")


def upsert_add(
    session: Session, table: Table, key: tuple[str, ...], cells: dict[tuple, list[int]]
) -> None:
    """Add to counter rows, creating missing ones: INSERT .. ON CONFLICT DO UPDATE."""
    rows = [
        dict(zip(key, k, strict=True)) | dict(zip(MEASURES, v, strict=True))
        for k, v in sorted(cells.items(), key=lambda kv: tuple(map(str, kv[0])))
        if any(v)
    ]
    # CHECK (not negative) is tested on the proposed row before ON CONFLICT applies, so a
    # change with a decrement goes through UPDATE: its row exists, since it was counted.
    falling = [r for r in rows if any(r[m] < 0 for m in MEASURES)]
    rows = [r for r in rows if not any(r[m] < 0 for m in MEASURES)]
    if falling:
        update = (
            table.update()
            .where(*(table.c[k] == bindparam(f"key_{k}") for k in key))
            .values({m: table.c[m] + bindparam(f"add_{m}") for m in MEASURES})
        )
        session.connection().execute(
            update,
            [
                {f"key_{k}": r[k] for k in key} | {f"add_{m}": r[m] for m in MEASURES}
                for r in falling
            ],
        )
    if not rows:
        return
    insert = _insert_for(session, table)
    statement = insert.on_conflict_do_update(
        index_elements=list(key), set_={m: table.c[m] + insert.excluded[m] for m in MEASURES}
    )
    session.execute(statement, rows)

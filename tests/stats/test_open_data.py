"""Public open data: snapshots protected across tables, stored once, served without cookies."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import func, select

from lms.stats import dimensions, opendata, services, synthetic
from lms.stats.figures import Period
from lms.stats.models import Completion, OpenDataSnapshot

TODAY = date(2026, 12, 7)  # Q4 2026 is under way: 2025-Q1 .. 2026-Q3 are complete


@pytest.mark.parametrize(
    "count,shown",
    [(0, 0), (1, "<10"), (9, "<10"), (10, 10), (14, 10), (15, 20), (25, 30), (1234, 1230)],
)
def test_public_counts_are_small_marks_or_multiples_of_ten(count, shown):
    assert opendata.protect(count) == shown


@pytest.fixture
def published(session, make_course):
    make_course("public"), make_course("public"), make_course("specialist")
    synthetic.seed(session, learners=1500, seed_value=11, batch=1500)
    return opendata.publish(session, today=TODAY)


def _rows(snapshot: OpenDataSnapshot) -> list[dict[str, str]]:
    text = opendata.csv_of(snapshot).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _count_columns(dimension: str) -> list[str]:
    return ["total"] if dimension == "tier" else [*dimensions.TIERS, "total"]


def test_snapshots_cover_completed_quarters_and_show_no_count_of_1_to_9(session, published):
    periods = {s.period for s in published}
    assert periods == {"2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"}
    assert {s.dimension for s in published} == set(dimensions.NAMES)
    assert len(published) == len(periods) * len(dimensions.NAMES)
    small = 0
    for snapshot in published:
        for row in _rows(snapshot):
            for column in _count_columns(snapshot.dimension):
                text = row[column]
                small += text == "<10"
                assert text == "<10" or (int(text) % 10 == 0 and int(text) >= 0), text
    assert small > 0, "the population has small cells to protect"


def test_a_snapshot_is_never_rebuilt_and_a_correction_is_a_new_version(session, published):
    assert opendata.publish(session, today=TODAY) == []  # nothing changed: nothing new
    first = {(s.dimension, s.period): s.package for s in published}
    # Annul completions of one quarter until its public tables change.
    facts = session.scalars(
        select(Completion)
        .where(Completion.day >= date(2025, 4, 1), Completion.day < date(2025, 7, 1))
        .order_by(Completion.id)
        .limit(40)
    )
    for fact in facts:
        services.annul_completion(session, completion=fact, reason="fraud", by_user=None)
    made = opendata.publish(session, today=TODAY)
    # That quarter changes (and later ones where a person's first completion moved there).
    assert "2025-Q2" in {s.period for s in made} and "2025-Q1" not in {s.period for s in made}
    assert all(s.version == 2 and s.changes for s in made)
    assert re.search(r"completions \S+ (public|specialist|total): \S+ -> \S+", made[0].changes)
    for s in session.scalars(select(OpenDataSnapshot).where(OpenDataSnapshot.version == 1)):
        assert s.package == first[(s.dimension, s.period)]  # version 1 stays as published
    descriptor = opendata.package_json(made[0])
    assert descriptor["version"] == "2" and descriptor["changes"] == made[0].changes


def test_a_snapshot_is_a_valid_data_package(session, published, tmp_path):
    snapshot = next(s for s in published if s.dimension == "region")
    with zipfile.ZipFile(io.BytesIO(snapshot.package)) as archive:
        archive.extractall(tmp_path)
    command = Path(sys.executable).parent / "frictionless"
    done = subprocess.run(
        [str(command), "validate", "--json", str(tmp_path / "datapackage.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    assert report["valid"], report["tasks"][0]["errors"][:3]
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert "rounded to the nearest 10" in descriptor["description"]
    assert descriptor["resources"][0]["schema"]["missingValues"] == ["<10"]


def _interval(text: str) -> tuple[int, int]:
    """What a public cell tells a reader about the exact count."""
    if text == "<10":
        return 1, 9
    shown = int(text)
    if shown == 0:
        return 0, 0
    return max(10, shown - 5), shown + 4  # round half up: n in [c-5, c+4] shows as c


def test_an_attacker_combining_a_quarters_tables_cannot_pin_a_small_cell(session, published):
    """Every published table of one quarter, with their totals, linked as an integer program:
    each cell lies in the interval its public value allows, each table's rows add up to its
    column totals, every table's tier totals are the same exact numbers, and a person new in
    a cell completed there (new <= completions). No cell shown as <10 has a single value."""
    quarter = "2025-Q3"
    variables: list[tuple[int, int]] = []
    index: dict[tuple[str, str, str, str], int] = {}
    exact: dict[int, int] = {}
    for dimension in dimensions.NAMES:
        snapshot = opendata.latest(session, dimension=dimension, period=quarter)
        assert snapshot is not None
        truth = {
            (t.measure, v, c): t.exact[r][k]
            for t in opendata.public_tables(
                session, dimension=dimension, period=Period.parse(quarter)
            )
            for r, v in enumerate(t.values)
            for k, c in enumerate(t.columns)
        }
        for row in _rows(snapshot):
            for column in _count_columns(dimension):
                key = (dimension, row["measure"], row[dimension], column)
                index[key] = len(variables)
                exact[index[key]] = truth[(row["measure"], row[dimension], column)]
                variables.append(_interval(row[column]))
    equalities: list[np.ndarray] = []

    def equal(left: list[int], right: int) -> None:
        row = np.zeros(len(variables))
        for i in left:
            row[i] += 1
        row[right] -= 1
        equalities.append(row)

    at_most: list[np.ndarray] = []
    for dimension in dimensions.NAMES:
        values = {k[2] for k in index if k[0] == dimension and k[2] != "total"}
        for measure in opendata.MEASURES:
            for column in _count_columns(dimension):
                cells = [index[(dimension, measure, v, column)] for v in values]
                equal(cells, index[(dimension, measure, "total", column)])
            if dimension != "tier":
                for v in [*values, "total"]:
                    cells = [index[(dimension, measure, v, t)] for t in dimensions.TIERS]
                    equal(cells, index[(dimension, measure, v, "total")])
                    for t in dimensions.TIERS:  # linked to the tier table's exact totals
                        if v == "total":
                            equal(
                                [index[(dimension, measure, v, t)]],
                                index[("tier", measure, t, "total")],
                            )
            else:
                equal(
                    [index[("tier", measure, "total", "total")]],
                    index[("region", measure, "total", "total")],
                )
            for v in [*values, "total"]:
                for column in _count_columns(dimension):
                    if measure != "completions":
                        row = np.zeros(len(variables))
                        row[index[(dimension, measure, v, column)]] = 1
                        row[index[(dimension, "completions", v, column)]] = -1
                        at_most.append(row)
    low = np.array([a for a, _b in variables], dtype=float)
    high = np.array([b for _a, b in variables], dtype=float)
    constraints = [LinearConstraint(np.array(equalities), 0, 0)]
    constraints.append(LinearConstraint(np.array(at_most), -np.inf, 0))
    integral = np.ones(len(variables))
    truth = np.array([exact[i] for i in range(len(variables))], dtype=float)
    # The model is right: the true counts satisfy it.
    assert np.allclose(np.array(equalities) @ truth, 0)
    assert (np.array(at_most) @ truth <= 0).all() and (low <= truth).all() and (truth <= high).all()
    small = [i for i, (a, b) in enumerate(variables) if (a, b) == (1, 9)]
    assert len(small) >= 20
    for i in small:
        cost = np.zeros(len(variables))
        cost[i] = 1
        least = milp(cost, constraints=constraints, integrality=integral, bounds=Bounds(low, high))
        most = milp(-cost, constraints=constraints, integrality=integral, bounds=Bounds(low, high))
        assert least.success and most.success
        assert round(-most.fun) > round(least.fun), f"cell {i} pinned to {round(least.fun)}"


def test_publish_command_and_counts(app, session, make_course):
    make_course("public")
    synthetic.seed(session, learners=50, seed_value=2, batch=100)
    result = app.test_cli_runner().invoke(args=["stats", "publish"])
    assert result.exit_code == 0, result.output
    assert "new snapshot versions" in result.output
    stored = session.scalar(select(func.count()).select_from(OpenDataSnapshot))
    assert stored and stored % len(dimensions.NAMES) == 0

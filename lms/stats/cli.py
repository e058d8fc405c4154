"""``flask stats rebuild|check|export|seed-synthetic``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from lms.db import db
from lms.stats import dimensions, exports, figures, rollups
from lms.stats.figures import BadPeriod, Period

stats_cli = AppGroup("stats", help="Ministry statistics: roll-ups, exports, synthetic data.")


@stats_cli.command("rebuild")
def rebuild() -> None:
    """Recompute milestones and counters from the facts and corrections."""
    session = db.session()
    n = rollups.rebuild(session)
    session.commit()
    click.echo(f"rebuilt roll-ups from {n} live completions", err=True)


@stats_cli.command("check")
def check() -> None:
    """Recompute the roll-ups aside; exit 1 naming the first difference."""
    difference = rollups.first_difference(db.session())
    if difference:
        click.echo(f"roll-ups differ from the facts: {difference}", err=True)
        sys.exit(1)
    click.echo("roll-ups agree with the facts", err=True)


@stats_cli.command("export")
@click.option("--dimension", type=click.Choice(dimensions.NAMES), required=True)
@click.option("--period", required=True, help="YYYY, YYYY-Qn or YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), default="csv")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export(dimension: str, period: str, fmt: str, output: str) -> None:
    """Write a suppressed export for publication, showing progress on stderr."""
    try:
        parsed = Period.parse(period)
    except BadPeriod:
        raise click.BadParameter("YYYY, YYYY-Qn or YYYY-MM", param_hint="--period") from None
    written = 0
    with (
        open(output, "wb") as handle,
        click.progressbar(
            exports.stream(
                db.session(),
                dimension=dimension,
                period=parsed,
                fmt=fmt,
                license_id=current_app.config["OPEN_DATA_LICENSE"],
            ),
            label=f"export {dimension} {parsed.text}",
            file=sys.stderr,
            show_pos=True,
        ) as chunks,
    ):
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
    click.echo(f"wrote {written} bytes to {output}", err=True)


@stats_cli.command("seed-synthetic")
@click.option("--learners", type=click.IntRange(min=1), required=True)
@click.option("--seed", "seed_value", type=int, default=1)
@click.option("--force", is_flag=True, help="Seed even if real learner accounts exist.")
@click.option("--batch", type=click.IntRange(min=100), default=50000)
def seed_synthetic(learners: int, seed_value: int, force: bool, batch: int) -> None:
    """Create synthetic learners (who cannot log in) with completions, counted."""
    import time

    from lms.stats import synthetic  # numpy and pandas: loaded only for this command

    session = db.session()
    started = time.perf_counter()
    try:
        with click.progressbar(
            length=learners, label="synthetic learners", file=sys.stderr, show_pos=True
        ) as bar:
            made = synthetic.seed(
                session,
                learners=learners,
                seed_value=seed_value,
                force=force,
                batch=batch,
                commit=session.commit,
                progress=bar.update,
            )
    except synthetic.RealLearnersPresent:
        click.echo(
            "refusing: this database holds learner accounts that are not synthetic "
            "(use --force to seed anyway)",
            err=True,
        )
        sys.exit(1)
    seconds = time.perf_counter() - started
    click.echo(
        f"{learners} learners, {made} completions in {seconds:.1f} s "
        f"({learners / seconds:,.0f} learners/s)",
        err=True,
    )


@stats_cli.command("publish")
def publish() -> None:
    """Publish the open-data snapshots of completed quarters (new or changed tables only)."""
    from lms.stats import opendata

    session = db.session()
    made = opendata.publish(
        session,
        today=figures.today(),
        license_id=current_app.config["OPEN_DATA_LICENSE"],
    )
    session.commit()
    for snapshot in made:
        click.echo(f"published {opendata.file_name(snapshot, versioned=True)}", err=True)
    click.echo(f"{len(made)} new snapshot versions", err=True)

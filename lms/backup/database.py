"""The database in and out of an archive: SQLite's online backup API, or ``pg_dump`` in its
custom format and ``pg_restore``; row counts read in the same snapshot as the copy."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, make_url


class DatabaseProblem(RuntimeError):
    """The database cannot be copied or restored (the message says what to do)."""


def dialect(url: str) -> str:
    """``sqlite`` or ``postgresql``; anything else is refused."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise DatabaseProblem(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DatabaseProblem("an in-memory SQLite database cannot be backed up")
    return Path(database)


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows in every table (alembic's bookkeeping aside), in one snapshot."""
    names = sorted(n for n in inspect(connection).get_table_names() if n != "alembic_version")
    preparer = connection.dialect.identifier_preparer
    return {
        name: int(
            connection.execute(text(f"SELECT COUNT(*) FROM {preparer.quote(name)}")).scalar_one()
        )
        for name in names
    }


def schema_revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def sqlite_copy(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """A consistent copy of a live SQLite database (online backup API, one step), and its
    counts read from the copy."""
    source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)  # all pages at once: one read snapshot of the source
        finally:
            destination.close()
    finally:
        source.close()
    return sqlite_facts(target)


def sqlite_facts(path: Path) -> tuple[dict[str, int], str | None]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            check = connection.exec_driver_sql("PRAGMA integrity_check").scalar()
            if check != "ok":
                raise DatabaseProblem(f"the SQLite copy is damaged: {check}")
            return table_counts(connection), schema_revision(connection)
    finally:
        engine.dispose()


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore and the environment carrying the
    password (never on a command line, where ``ps`` shows it)."""
    parsed: URL = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise DatabaseProblem(f"{name} is not installed (apt-get install postgresql-client)")
    return found


@contextmanager
def _snapshot(url: str) -> Iterator[tuple[Connection, str]]:
    """A REPEATABLE READ transaction and its exported snapshot, for pg_dump --snapshot."""
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield connection, str(snapshot)
            connection.rollback()
    finally:
        engine.dispose()


def postgres_dump(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """``pg_dump -Fc`` of the database, and counts from the very snapshot it dumped."""
    dsn, env = libpq(url)
    with _snapshot(url) as (connection, snapshot):
        counts, revision = table_counts(connection), schema_revision(connection)
        done = subprocess.run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={target}", f"--dbname={dsn}"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise DatabaseProblem(f"pg_dump failed: {done.stderr.strip()}")
    return counts, revision


def postgres_check(dump: Path) -> int:
    """Entries in the dump's table of contents (``pg_restore --list`` reads it all)."""
    done = subprocess.run(
        [_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DatabaseProblem(f"pg_restore cannot read the dump: {done.stderr.strip()}")
    return sum(1 for line in done.stdout.splitlines() if line and not line.startswith(";"))


def postgres_restore(url: str, dump: Path) -> None:
    """``pg_restore`` into the (empty) database of ``url``, all or nothing."""
    dsn, env = libpq(url)
    done = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={dsn}", str(dump)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise DatabaseProblem(f"pg_restore failed (nothing restored): {done.stderr.strip()}")


def tables_in(url: str) -> list[str]:
    """The tables the database at ``url`` holds now (none for an empty or absent one)."""
    if dialect(url) == "sqlite" and not sqlite_path(url).exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def counts_of(url: str) -> tuple[dict[str, int], str | None]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return table_counts(connection), schema_revision(connection)
    finally:
        engine.dispose()


def place_sqlite(copy: Path, url: str) -> None:
    """Move the restored file into the database's place (the old, empty one and its WAL
    files go)."""
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    staged = path.with_name(f".{path.name}.restoring")
    shutil.copyfile(copy, staged)
    staged.chmod(0o600)  # names, e-mails, drafts
    os.replace(staged, path)

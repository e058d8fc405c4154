"""The declarative base, column types shared by every feature, and the request session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# The largest id a column holds (a signed 64-bit integer): larger numbers are unknown ids.
MAX_ID = 2**63 - 1

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as aware UTC, on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        dict[str, str]: JSON(),
        list[str]: JSON(),
        list[Any]: JSON(),
    }


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Any) -> None:
    # pysqlite defers BEGIN until the first write, which breaks SAVEPOINTs (a released
    # savepoint would commit for real); SQLAlchemy's documented recipe begins explicitly.
    # A request that may write (POST...) takes the write lock up front: in WAL mode SQLite
    # refuses at once, without waiting, to turn a transaction that has read into a writer
    # once another connection has written, whereas BEGIN IMMEDIATE waits its turn.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _request_may_write() else "BEGIN")


def _request_may_write() -> bool:
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver must not issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted rows (an erased account's name, e-mail, sessions) are overwritten with zeros,
    # not left readable in the file's free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def unreachable(error: BaseException, url: str) -> str:
    """One line that says which database could not be reached and why (the driver's first
    line: "Connection refused", "role "oqu" does not exist"...), without the password."""
    from sqlalchemy.engine import make_url

    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = lines[0] if lines else type(cause).__name__
    # psycopg: "connection failed: connection to server at ... failed: FATAL:  <reason>"
    reason = reason.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
    where = make_url(url).render_as_string(hide_password=True)
    return f"cannot use the database {where}: {reason}"


class Database:
    """One engine per app and one session per request, closed at teardown."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], echo=bool(app.config["DATABASE_ECHO"]))
        app.extensions["oqu.db"] = {
            "engine": engine,
            "factory": sessionmaker(bind=engine, expire_on_commit=False),
            "fixed": None,
        }
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def engine(app: Flask | None = None) -> Engine:
        """The app's engine."""
        return (app or current_app).extensions["oqu.db"]["engine"]

    @staticmethod
    def use_session(app: Flask, session: Session | None) -> None:
        """Make every request of ``app`` use ``session`` (tests run inside a savepoint)."""
        app.extensions["oqu.db"]["fixed"] = session

    def session(self) -> Session:
        """The session of the current request or app context."""
        state = current_app.extensions["oqu.db"]
        if state["fixed"] is not None:
            return state["fixed"]
        if "db_session" not in g:
            g.db_session = state["factory"]()
        return g.db_session

    @staticmethod
    def _teardown(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()

"""The database layer: one URL chooses SQLite (embedded) or PostgreSQL (several instances).

Everything specific to one backend stays in this module: engines and
connection settings, how a write transaction begins, upserts, locks, and how
an unreachable database is recognised. Stores above it write SQLAlchemy Core
statements only.

SQLite: writes go through one connection (the pool holds one) that begins
with ``BEGIN IMMEDIATE``, so writers queue in this process without blocking
the event loop and take SQLite's lock up front across processes; reads use
their own connections and see a consistent snapshot (WAL). Every connection
runs on aiosqlite's own thread. PostgreSQL: one pool for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Row, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from .files import private_dir
from .schema import articles, metadata
from .settings import is_postgres, sqlite_path

log = logging.getLogger("campaign.db")
SQLITE_BUSY_MS = 10_000  # a writer of another process holds the lock at most this long
MIGRATION_LOCK = 7_384_011  # advisory lock key on PostgreSQL
WAL_KEEP_BYTES = 64 * 2**20
SQLITE_FOLD = "campaign_fold"  # Python's str.lower, registered on every SQLite connection


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now (restart, network); answer 503."""


def sqlalchemy_url(database: str | Path) -> URL:
    """``CAMPAIGN_DATABASE`` as an async SQLAlchemy URL (asyncpg or aiosqlite)."""
    if is_postgres(database):
        url = make_url(str(database))
        return url.set(drivername="postgresql+asyncpg")
    path = sqlite_path(database)
    assert path is not None
    return URL.create("sqlite+aiosqlite", database=str(path))


def unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the server is gone or restarting", not a bug."""
    if isinstance(exc, DatabaseUnavailable | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(word in text for word in (
            "connection", "terminating", "shutting down", "starting up", "could not connect",
            "database is locked", "recovery"))
    return isinstance(exc, OSError)


class Database:
    """Engines for one database; ``transaction()`` writes, ``all/one/scalar`` read."""

    def __init__(self, database: str | Path, *, pool_size: int = 5,
                 statement_timeout: float = 15.0, synchronous: str = "FULL") -> None:
        self.url = sqlalchemy_url(database)
        self.backend = "postgresql" if is_postgres(database) else "sqlite"
        self.path = sqlite_path(database)
        self.pool_size = pool_size
        self.statement_timeout = statement_timeout
        # SQLite: FULL syncs the WAL at every commit, so a confirmed lead survives a
        # power cut; "NORMAL" exists only for bench/durability.py's comparison.
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.synchronous = synchronous
        self._writer: AsyncEngine | None = None  # transactions that write
        self._reader: AsyncEngine | None = None  # several reads in one snapshot
        self._single: AsyncEngine | None = None  # one statement, no transaction around it

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    # -- life cycle -----------------------------------------------------------

    async def open(self, *, migrate: bool = True) -> list[str]:
        """Connect, and bring the schema up to date; returns the migrations applied."""
        if self.is_sqlite:
            self._prepare_sqlite_file()
            self._writer = self._sqlite_engine(pool_size=1, begin="BEGIN IMMEDIATE")
            self._reader = self._sqlite_engine(pool_size=self.pool_size, begin="BEGIN")
            self._single = self._sqlite_engine(pool_size=self.pool_size, begin=None)
        else:
            # No ping on every checkout: after a restart of the server the first
            # statement on a dead connection fails (a 503), and SQLAlchemy then
            # drops every pooled connection, so the next requests reconnect.
            self._writer = self._reader = create_async_engine(
                self.url, pool_size=self.pool_size, max_overflow=self.pool_size,
                pool_timeout=10, pool_recycle=3600,
                connect_args={"timeout": 10, "server_settings": {
                    "statement_timeout": str(int(self.statement_timeout * 1000)),
                    "timezone": "UTC"}})
            self._single = self._writer.execution_options(isolation_level="AUTOCOMMIT")
        return await self.migrate() if migrate else []

    async def close(self) -> None:
        for engine in {id(e): e for e in (self._writer, self._reader, self._single)
                       if e}.values():
            await engine.dispose()
        self._writer = self._reader = self._single = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _prepare_sqlite_file(self) -> None:
        """Create the file (and its folder) for the service's user only; SQLite gives
        the WAL and shared-memory files the mode of the database file."""
        assert self.path is not None
        private_dir(self.path.parent)
        if not self.path.exists():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)

    def _sqlite_engine(self, *, pool_size: int, begin: str | None) -> AsyncEngine:
        engine = create_async_engine(self.url, pool_size=pool_size, max_overflow=0,
                                     pool_timeout=60)

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            # SQLAlchemy emits BEGIN itself (below), not the sqlite3 module.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (f"busy_timeout = {SQLITE_BUSY_MS}", "journal_mode = WAL",
                           f"synchronous = {self.synchronous}", "foreign_keys = ON",
                           # erased personal data is overwritten, not left in free pages
                           "secure_delete = ON",
                           # after a burst of writes the WAL file shrinks back to this
                           f"journal_size_limit = {WAL_KEEP_BYTES}"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
            dbapi_connection.create_function(SQLITE_FOLD, 1, _fold_text, deterministic=True)

        if begin is not None:  # without: each statement on its own (autocommit)
            @event.listens_for(engine.sync_engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql(begin)

        return engine

    # -- migrations -------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Apply the Alembic migrations not applied yet, under a lock so that
        instances starting at the same moment do not race; returns their ids."""
        from .migrate import upgrade

        assert self._writer is not None
        async with self._file_lock():
            async with self._writer.connect() as conn:
                if not self.is_sqlite:
                    await conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK)))
                    await conn.commit()
                try:
                    applied: list[str] = await conn.run_sync(upgrade)
                    await conn.commit()
                finally:
                    if not self.is_sqlite:
                        await conn.execute(
                            sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK)))
                        await conn.commit()
        return applied

    @contextlib.asynccontextmanager
    async def _file_lock(self) -> AsyncIterator[None]:
        """SQLite: an exclusive lock on a file beside the database, taken in a
        thread so that waiting for another process never stalls the event loop."""
        if not self.is_sqlite:
            yield
            return
        assert self.path is not None
        fd = os.open(f"{self.path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # -- statements ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One atomic unit of writes: committed when the block ends, rolled back on error."""
        assert self._writer is not None, "database not open"
        try:
            async with self._writer.begin() as conn:
                yield conn
        except Exception as exc:
            if unavailable(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A consistent snapshot for several reads."""
        assert self._reader is not None, "database not open"
        try:
            async with self._reader.begin() as conn:
                yield conn
        except Exception as exc:
            if unavailable(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    @contextlib.asynccontextmanager
    async def _statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read: no BEGIN and COMMIT around a single statement."""
        assert self._single is not None, "database not open"
        try:
            async with self._single.connect() as conn:
                yield conn
        except Exception as exc:
            if unavailable(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    async def all(self, statement: Executable) -> Sequence[Row[Any]]:
        async with self._statement() as conn:
            return (await conn.execute(statement)).all()

    async def one(self, statement: Executable) -> Row[Any] | None:
        async with self._statement() as conn:
            return (await conn.execute(statement)).first()

    async def scalar(self, statement: Executable) -> Any:
        async with self._statement() as conn:
            return (await conn.execute(statement)).scalar()

    def insert(self, table: sa.Table) -> Any:
        """An INSERT that knows ``on_conflict_do_nothing/do_update`` on this backend."""
        if self.is_sqlite:
            return sqlite.insert(table)
        return postgresql.insert(table)

    def for_update(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """Lock the selected rows for this transaction, skipping rows another
        transaction holds (PostgreSQL); SQLite's writer lock covers the whole file."""
        if self.is_sqlite:
            return select
        return select.with_for_update(skip_locked=True)

    async def reset_sequences(self, conn: AsyncConnection) -> None:
        """After rows were inserted with their ids (a copy), let new ids follow them."""
        if self.is_sqlite:
            return  # SQLite takes the next id from the largest one present
        for table in metadata.sorted_tables:
            column = table.c.get("id")
            if column is None or not column.autoincrement:
                continue
            await conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))

    async def ping(self) -> bool:
        try:
            return bool(await self.scalar(sa.select(sa.literal(1))) == 1)
        except Exception:
            return False

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it (after an erasure,
        so erased values do not linger in the WAL file). Nothing on PostgreSQL."""
        if not self.is_sqlite:
            return
        assert self._writer is not None
        async with self._writer.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# -- statements that differ between the backends ---------------------------------------


def insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An INSERT with ``on_conflict_do_nothing/do_update`` for the connection's backend."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


async def increment(conn: AsyncConnection, table: sa.Table, key: dict[str, Any],
                    amount: int = 1) -> int:
    """Add ``amount`` to the ``count`` of the row with primary key ``key`` (made
    at 0 if missing) in one atomic statement; returns the new count."""
    stmt = insert(conn, table).values(**key, count=amount)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={"count": table.c.count + stmt.excluded.count},
    ).returning(table.c.count)
    return int((await conn.execute(stmt)).scalar_one())


def _fold_text(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class fold(FunctionElement[str]):  # noqa: N801 (used like sa.func.lower)
    """``expr`` in lower case for a case-insensitive search, for every letter:
    SQLite's own ``lower()`` and ``LIKE`` only know A-Z, so on SQLite this calls
    Python's ``str.lower`` (registered per connection); PostgreSQL's ``lower()``
    follows the database's locale (a UTF-8 one). Compare it with ``text.lower()``."""

    type = sa.String()
    name = "fold"
    inherit_cache = True


@compiles(fold)
def _fold_default(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


# -- full-text search over the how-tos (the index is made by migration 0009) -------------

ARTICLES_FTS = "articles_fts"  # SQLite: FTS5 over title, body, tags (umlauts folded)
ARTICLES_DOCUMENT = "to_tsvector('german', title || ' ' || body || ' ' || tags)"  # PG: GIN


def search_words(query: str, limit: int = 8) -> list[str]:
    """The words of a search, lower case; punctuation and operators are dropped."""
    return re.findall(r"\w+", query.lower())[:limit]


def article_matches(dialect: str, query: str) -> sa.ColumnElement[bool]:
    """SQL: the row of ``articles`` holds every word of ``query``, as a word or the start
    of one ("Kita" finds "Kitaplätze"). PostgreSQL also finds German word forms
    (``websearch_to_tsquery('german', …)``: "Kitaplatz" finds "Kitaplätze")."""
    words = search_words(query)
    if not words:
        return sa.false()
    if dialect == "sqlite":
        match = " ".join(f'"{word}"*' for word in words)
        hits: sa.Select[Any] = (
            sa.select(sa.literal_column("rowid")).select_from(sa.table(ARTICLES_FTS))
            .where(sa.literal_column(ARTICLES_FTS).op("MATCH")(match)))
        return articles.c.id.in_(hits)
    german: sa.ColumnElement[Any] = sa.literal_column("'german'")
    document: sa.ColumnElement[Any] = sa.literal_column(ARTICLES_DOCUMENT)
    prefixes = " & ".join(f"{word}:*" for word in words)
    return sa.or_(document.op("@@")(sa.func.websearch_to_tsquery(german, " ".join(words))),
                  document.op("@@")(sa.func.to_tsquery(german, prefixes)))

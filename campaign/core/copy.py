"""Copying a whole database to another (``copy-db``): a municipality that started
on the embedded SQLite file moves to PostgreSQL with everything it has."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .db import Database
from .schema import metadata

BATCH = 500


class TargetNotEmpty(Exception):
    """The target database already holds data; copying would mix two campaigns."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


async def copy_database(source: Database, target: Database) -> list[Copied]:
    """Copy every table (parents before children), then set the target's id
    sequences past the copied ids; both databases must be open and migrated."""
    async with target.reading() as conn:
        for table in metadata.sorted_tables:
            if await conn.scalar(sa.select(sa.func.count()).select_from(table)):
                raise TargetNotEmpty(f"table {table.name} of the target is not empty")
    copied = []
    async with target.transaction() as out:
        for table in metadata.sorted_tables:
            count = 0
            async with source.reading() as conn:
                result = await conn.stream(sa.select(table).order_by(*table.primary_key.columns))
                async for batch in result.partitions(BATCH):
                    await out.execute(table.insert(), [dict(row._mapping) for row in batch])
                    count += len(batch)
            copied.append(Copied(table.name, count))
        await target.reset_sequences(out)
    return copied

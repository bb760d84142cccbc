"""COPY helpers of the benchmarks' data: rows written as COPY text, a table's indexes and constraints
dropped for the load and rebuilt after it, and a marker of what was built (reused by a later run).

The data is written as tab-separated text (COPY's text format) built by the caller; `copy_rows` adds the
columns the caller leaves out from the fields' defaults, so a column a later migration adds with a default
needs nothing from the generator.
"""

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone


def text_value(value) -> str:
    """A constant in COPY's text format (the values written here hold no tab, newline or backslash)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def copy_rows(model, columns: list[str], lines: Iterable[str], *, constants: dict | None = None) -> int:
    """COPY tab-separated `lines` (the `columns`, in order) into the model's table.

    Each other NOT NULL column is written once for every row: from `constants`, else the field's own
    default (a constant, a list or dict, now) — so a column a later migration adds with a default needs
    nothing here, and one without a default stops the build with its name.
    """
    constants = dict(constants or {})
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.column in columns or field.column in constants or field.null:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            constants[field.column] = now
        elif getattr(field, "db_returning", False):  # an identity column: the database numbers the rows
            continue
        elif field.has_default() and field.default is not uuid.uuid4:
            default = field.get_default()
            constants[field.column] = default() if callable(default) else default
        elif field.empty_strings_allowed and not field.has_default():
            constants[field.column] = ""  # Django's own default of a text column
        else:
            raise RuntimeError(f"{model._meta.db_table}.{field.column}: no value and no default")
    names = [*columns, *constants]
    suffix = "".join("\t" + text_value(value) for value in constants.values())
    count, chunk = 0, []
    statement = f"COPY {model._meta.db_table} ({', '.join(names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for line in lines:
            chunk.append(line + suffix + "\n")
            count += 1
            if len(chunk) >= 5000:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))
    return count


@contextmanager
def indexes_dropped(tables: Iterable[str], *, log=print):
    """Drop the tables' indexes and constraints (and the foreign keys into them), put them back after
    (each a sort of the loaded table, one process: no parallel workers, as the rest of the build)."""
    tables = list(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND (conrelid::regclass::text = ANY(%s) OR confrelid::regclass::text = ANY(%s))",
            [tables, tables],
        )
        foreign = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype IN ('p', 'u', 'x') AND conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in foreign:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    statements = [
        *(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in keys),
        *(definition for _name, definition in indexes),
        *(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET max_parallel_maintenance_workers = 0")
        for statement in statements:
            started = time.perf_counter()
            cursor.execute(statement)
            if time.perf_counter() - started > 3:
                log(f"    {time.perf_counter() - started:.1f} s: {statement[:110]}")


def marker_read(name: str) -> dict | None:
    """The parameters and build time of the data set built under `name`, or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_dataset') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT parameters, built_at, seconds FROM bench_dataset WHERE name = %s", [name])
        row = cursor.fetchone()
    if row is None:
        return None
    parameters = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return {"parameters": parameters, "built_at": row[1], "seconds": row[2]}


def marker_write(name: str, parameters: dict, seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset "
            "(name text PRIMARY KEY, parameters jsonb NOT NULL, built_at timestamptz NOT NULL, seconds float)"
        )
        cursor.execute(
            "INSERT INTO bench_dataset VALUES (%s, %s, now(), %s) ON CONFLICT (name) DO UPDATE "
            "SET parameters = EXCLUDED.parameters, built_at = EXCLUDED.built_at, seconds = EXCLUDED.seconds",
            [name, json.dumps(parameters), seconds],
        )


def database_size() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]

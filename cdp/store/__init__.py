"""The analytic store: one DuckDB file, pseudonymous only, created by numbered migrations.

DuckDB lets one process write a file at a time, so every command opens the store for its
own work and closes it promptly (ARCHITECTURE.md, "Store access"). ``open_store`` waits
while another process holds the file, then fails with :class:`StoreBusyError`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from cdp.errors import StoreBusyError, StoreError

__all__ = ["open_store", "connect", "migrate", "schema_version", "MIGRATIONS", "DEFAULT_WAIT_SECONDS"]

DEFAULT_WAIT_SECONDS = 30.0


def _migration_files() -> list[tuple[int, str, str]]:
    out = []
    folder = resources.files("cdp.store") / "migrations"
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            out.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(out)


MIGRATIONS = _migration_files


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "already open" in text


def connect(path: Path | str, *, read_only: bool = False, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting up to ``wait`` seconds while another process holds it."""
    if wait is None:
        wait = float(os.environ.get("CDP_STORE_WAIT", DEFAULT_WAIT_SECONDS))
    deadline = time.monotonic() + wait
    told = False
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            # every naive timestamp we write is UTC except events.ts (docs/decisions.md)
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # our own progress bars only
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"the store {path} is in use by another process (waited {wait:.0f} s)",
                    hint="wait for the other cdp command to finish, or raise CDP_STORE_WAIT",
                ) from exc
            if not told:
                print(f"waiting for {Path(path).name}: another cdp process is using it ...", file=sys.stderr)
                told = True
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration not yet applied, in number order; returns the schema version.

    Applied migrations are tracked one by one (not only the highest number), so a migration
    numbered below the newest one — each area of the code has its own number range — is still
    applied to a store created before it existed.
    """
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    applied = {int(r[0]) for r in con.execute("SELECT version FROM schema_version").fetchall()}
    for number, name, sql in _migration_files():
        if number in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)", [number, name]
            )
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migration {name} failed: {exc}") from exc
    return schema_version(con)


@contextmanager
def open_store(
    path: Path | str, *, read_only: bool = False, wait: float | None = None, migrate_schema: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store for one unit of work, migrating it first; always closes it."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}", hint="run `cdp init` or `cdp ingest` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(path, read_only=read_only, wait=wait)
    try:
        if migrate_schema and not read_only:
            migrate(con)
        yield con
    finally:
        con.close()

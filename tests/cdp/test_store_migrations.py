"""Numbered migrations: a fresh store gets all; an older store gets the ones it lacks, even
when their numbers are below its newest one (each area has its own number range)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.errors import StoreError
from cdp.store import _migration_files, migrate, open_store, schema_version


def test_fresh_store_applies_every_migration(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as con:
        applied = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
        assert applied == [n for n, _name, _sql in _migration_files()]
        assert schema_version(con) == applied[-1]


def test_a_lower_numbered_migration_missing_from_an_old_store_is_applied(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as con:
        files = _migration_files()
        assert len(files) >= 2
        lower = files[1]                      # e.g. 002: pretend the store never had it
        con.execute("DELETE FROM schema_version WHERE version = ?", [lower[0]])
    with open_store(tmp_path / "s.duckdb", migrate_schema=False) as con:
        before = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
        assert lower[0] not in before
    # its objects exist already, so re-applying it fails: the StoreError naming it proves the
    # runner attempted the missing migration instead of skipping it for being below the newest
    with pytest.raises(StoreError) as err:
        with open_store(tmp_path / "s.duckdb") as con:
            pass
    assert lower[1] in str(err.value)


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as con:
        first = schema_version(con)
        assert migrate(con) == first
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(_migration_files())

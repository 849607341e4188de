"""Stored builds: ``segment_builds`` (one row per segment per build) and ``segment_members``.

A build's members are everyone matching the rule; ``control`` marks the holdout group.
Build ids come from ``build_seq``; the builds of one ``cdp segment build`` share a
``run_id`` (``segment_run_seq``) and are written in one transaction by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.errors import NotFoundError

__all__ = [
    "StoredBuild",
    "apply_retention",
    "builds_of",
    "get_build",
    "insert_build",
    "latest_builds",
    "next_run_id",
    "segment_names",
]

_COLUMNS = (
    "build_id, segment, as_of, built_at, engine, rule_hash, purposes, holdout_pct, members, control, "
    "label, description, run_id, duration_ms"
)


@dataclass(frozen=True)
class StoredBuild:
    """One row of ``segment_builds``."""

    build_id: int
    segment: str
    as_of: datetime
    built_at: datetime
    engine: str
    rule_hash: str | None
    purposes: list[str]
    holdout_pct: float | None
    members: int
    control: int
    label: str | None
    description: str | None
    run_id: int | None
    duration_ms: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "segment": self.segment,
            "label": self.label,
            "as_of": self.as_of,
            "built_at": self.built_at,
            "engine": self.engine,
            "members": self.members,
            "control": self.control,
            "holdout_pct": self.holdout_pct,
            "purposes": list(self.purposes),
            "rule_hash": self.rule_hash,
            "run_id": self.run_id,
            "duration_ms": self.duration_ms,
        }


def _row(row: tuple[Any, ...]) -> StoredBuild:
    (bid, seg, as_of, built_at, engine, rule_hash, purposes, holdout, members, control, label, desc, run_id, dur) = row
    return StoredBuild(
        build_id=int(bid),
        segment=seg,
        as_of=as_of,
        built_at=built_at,
        engine=engine,
        rule_hash=rule_hash,
        purposes=list(purposes or []),
        holdout_pct=holdout,
        members=int(members),
        control=int(control),
        label=label,
        description=desc,
        run_id=run_id,
        duration_ms=dur,
    )


def next_run_id(con: Any) -> int:
    return int(con.execute("SELECT nextval('segment_run_seq')").fetchone()[0])


def insert_build(
    con: Any,
    *,
    segment: str,
    source_table: str,
    as_of: datetime,
    run_id: int,
    engine: str = "duckdb",
    rule_hash: str | None = None,
    purposes: list[str] | None = None,
    holdout_pct: float | None = None,
    label: str | None = None,
    description: str | None = None,
) -> StoredBuild:
    """Copy one segment's result (a table of ``customer_id, control``) into the store.

    ``source_table`` is our own temp table name (never user text). The caller owns the
    transaction.
    """
    build_id = int(con.execute("SELECT nextval('build_seq')").fetchone()[0])
    con.execute(
        f"INSERT INTO segment_members (build_id, segment, customer_id, control) "
        f"SELECT ?, ?, customer_id, coalesce(control, false) FROM {source_table}",
        [build_id, segment],
    )
    members, control = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE control) FROM {source_table}"
    ).fetchone()
    con.execute(
        "INSERT INTO segment_builds (build_id, segment, as_of, built_at, engine, rule_hash, purposes, "
        "holdout_pct, members, control, label, description, run_id) "
        "VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [build_id, segment, as_of, engine, rule_hash, list(purposes or []), holdout_pct,
         int(members), int(control), label, description, run_id],
    )
    return get_build(con, segment, build_id)


def apply_retention(con: Any, segment: str, keep: int, *, protect: set[int] | frozenset[int] = frozenset()) -> int:
    """Delete all but the ``keep`` newest builds (by build id) of ``segment``; 0 keeps all.

    Builds in ``protect`` (the ones just made) are never deleted. Returns how many were removed.
    """
    if keep <= 0:
        return 0
    ids = [r[0] for r in con.execute(
        "SELECT build_id FROM segment_builds WHERE segment = ? ORDER BY build_id DESC OFFSET ?",
        [segment, keep],
    ).fetchall()]
    ids = [i for i in ids if i not in protect]
    if not ids:
        return 0
    con.execute("DELETE FROM segment_members WHERE build_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    con.execute("DELETE FROM segment_builds WHERE build_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    return len(ids)


def latest_builds(con: Any) -> list[StoredBuild]:
    """The latest build (by as_of, then build id) of every segment, by segment name."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM segment_builds "
        "QUALIFY row_number() OVER (PARTITION BY segment ORDER BY as_of DESC, build_id DESC) = 1 "
        "ORDER BY segment"
    ).fetchall()
    return [_row(r) for r in rows]


def builds_of(con: Any, segment: str) -> list[StoredBuild]:
    """Every stored build of ``segment``, oldest first (by as_of, then build id)."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM segment_builds WHERE segment = ? ORDER BY as_of, build_id", [segment]
    ).fetchall()
    return [_row(r) for r in rows]


def segment_names(con: Any) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT segment FROM segment_builds ORDER BY 1").fetchall()]


def get_build(con: Any, segment: str, build_id: int) -> StoredBuild:
    """One build of ``segment``; NotFoundError names the build when it is not that segment's."""
    row = con.execute(
        f"SELECT {_COLUMNS} FROM segment_builds WHERE segment = ? AND build_id = ?", [segment, build_id]
    ).fetchone()
    if row is None:
        raise NotFoundError(
            "build", str(build_id), hint=f"`cdp segment history {segment}` lists the builds of this segment"
        )
    return _row(row)

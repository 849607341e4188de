"""One build run: the shared metrics once, then every segment in dependency order, in ONE
transaction (a crash leaves no half build).

The dsl's build plan (``dsl.compile_build``) gives a prelude of ``(temp_table, select)``
pairs, the per-customer metrics several segments share, so events are scanned once per
run, not once per segment; each segment's query then reads those temp tables, and its
members go to a temp table, then to ``segment_members`` with the build's row.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from cdp.errors import StoreError
from cdp.segments.asof import AsOf
from cdp.segments.storage import apply_retention, insert_build, next_run_id

__all__ = ["rule_hash", "run_build"]


def rule_hash(text: str) -> str:
    """16 hex digits of SHA-256: enough to tell rule versions apart in `history`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _segment_table(plan: Any, name: str, index: int) -> str:
    """The temp table holding ``name``'s members: the plan's name for it when it has one."""
    tables = getattr(plan, "tables", None)
    if isinstance(tables, dict) and name in tables:
        return str(tables[name])
    return f"_cdp_seg_{index}"


def run_build(
    con: Any,
    checked: Any,
    names: list[str] | None,
    when: AsOf,
    options: Callable[..., Any],
    *,
    engine: str = "duckdb",
    keep_builds: int = 0,
    on_segment: Callable[[str, int, int], None] | None = None,
    runner: Callable[[Any, dict[str, str]], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Build ``names`` (None = all) at ``when``; returns {name: {members, control, build_id}}.

    ``runner`` (cdp.engines.engine_runner, for engine postgres/spark) runs the plan compiled
    for that engine's dialect where the data lives and returns each segment's members;
    they are stored here exactly as a DuckDB build's.
    """
    import duckdb

    import dsl

    started = time.monotonic()
    opts = options(when)
    if runner is not None:  # engines area: compile for the engine's SQL dialect
        import dataclasses

        opts = dataclasses.replace(opts, dialect=engine)
    plan = dsl.compile_build(checked, names, opts)
    wanted = set(names) if names else None
    results: dict[str, dict[str, Any]] = {}
    made: dict[str, int] = {}
    order = list(plan.order)
    hashes = _hashes(checked, [n for n in order if wanted is None or n in wanted])
    # engines area: on postgres/spark the whole plan runs there first; members come back as Arrow
    remote = runner(plan, {n: _segment_table(plan, n, i) for i, n in enumerate(order)}) if runner else None
    con.execute("BEGIN TRANSACTION")
    try:
        for table, select in plan.prelude if remote is None else []:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {_sql(select)}")
        run_id = next_run_id(con)
        for index, name in enumerate(order):
            seg = checked.segments[name]  # the AST: label, description, purposes, holdout
            if on_segment is not None:
                on_segment(name, index, len(order))
            if wanted is not None and name not in wanted:
                # a dependency of a requested segment: the compiler inlines `in segment` over the
                # prelude, so nothing needs computing or storing for it
                continue
            table = _segment_table(plan, name, index)
            if remote is None:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {_sql(plan.segments[name])}")
            else:  # engines area: members computed on postgres/spark
                con.register("_cdp_remote_members", remote[name])
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT customer_id, control FROM _cdp_remote_members"
                )
                con.unregister("_cdp_remote_members")
            build = insert_build(
                con,
                segment=name,
                source_table=table,
                as_of=when.local,
                run_id=run_id,
                engine=engine,
                rule_hash=hashes.get(name),
                purposes=sorted(seg.purposes),
                holdout_pct=_float(seg.holdout),
                label=seg.label,
                description=seg.description,
            )
            con.execute(f"DROP TABLE IF EXISTS {table}")  # keep one segment's members in memory at a time
            made[name] = build.build_id
            results[name] = {"members": build.members, "control": build.control, "build_id": build.build_id}
        duration_ms = int((time.monotonic() - started) * 1000)
        if made:
            con.execute(
                "UPDATE segment_builds SET duration_ms = ? WHERE run_id = ?", [duration_ms, run_id]
            )
        for name in made:
            apply_retention(con, name, keep_builds, protect=set(made.values()))
        _audit(con, run_id, when, results)
        for table, _ in plan.prelude:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("COMMIT")
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        if isinstance(exc, duckdb.Error):
            raise StoreError(
                f"the build failed and nothing was stored: {type(exc).__name__}: {_without_values(str(exc))}",
                hint="re-run with --debug for the traceback; `cdp segment explain NAME` shows the SQL",
            ) from exc
        raise
    return results


def _hashes(checked: Any, names: list[str]) -> dict[str, str]:
    """A hash per segment of the canonical text of everything it uses: its definition, the
    metrics, constants, models and segments it refers to (transitively), the RFM settings
    and the trained model versions. It changes when the rule changes, not with as_of."""
    import dataclasses

    import dsl
    from dsl import ast

    tables = {"lets": checked.lets, "metrics": checked.metrics, "models": checked.models,
              "segments": checked.segments}

    def refs(node: Any, out: set[tuple[str, str]]) -> None:
        if isinstance(node, (list, tuple)):
            for item in node:
                refs(item, out)
            return
        if not dataclasses.is_dataclass(node):
            return
        if isinstance(node, ast.Name):
            for table, defs in tables.items():
                if node.name in defs:
                    out.add((table, node.name))
        elif isinstance(node, (ast.InSegment, ast.WasInSegment)):
            out.add(("segments", node.segment))
        elif isinstance(node, ast.ModelCall):
            out.add(("models", node.model))
        for f in dataclasses.fields(node):
            if f.name != "loc":
                refs(getattr(node, f.name), out)

    rfm = repr(checked.catalog.rfm_settings())
    result: dict[str, str] = {}
    for name in names:
        todo, seen = [("segments", name)], set()
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            found: set[tuple[str, str]] = set()
            refs(tables[key[0]][key[1]], found)
            todo.extend(found - seen)
        defs = tuple(tables[t][n] for t, n in sorted(seen))
        models = [repr(checked.catalog.model(n)) for t, n in sorted(seen) if t == "models"]
        text = dsl.format_program(dsl.Program(items=defs)) + "\n" + rfm + "\n" + "\n".join(models)
        result[name] = rule_hash(text)
    return result


def _without_values(message: str) -> str:
    """A DuckDB message with its quoted data values masked: errors never carry a customer's data."""
    import re

    return re.sub(r"'(?:[^']|'')*'", "'…'", message)


def _sql(query: Any) -> str:
    return query if isinstance(query, str) else query.sql(dialect="duckdb")


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _audit(con: Any, run_id: int, when: AsOf, results: dict[str, dict[str, Any]]) -> None:
    """Building segments is profiling (GDPR Art. 4(4)): one audit entry per run, sizes only."""
    from privacy import audit

    audit.record(
        con,
        "segment.build",
        target=f"run:{run_id}",
        details={
            "as_of": when.local.isoformat(sep=" "),
            "segments": {n: {"members": r["members"], "control": r["control"], "build_id": r["build_id"]}
                         for n, r in results.items()},
        },
    )

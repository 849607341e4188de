"""`cdp status`: what the store holds, how ingestion went, and every area's warnings.

The JSON shape (docs/cli.md) has the integer fields ``customers``, ``events``,
``identities``, ``consent_events`` and ``rejects`` at its top level. Other areas add
warnings by giving their service a ``status_warnings(con) -> list[str]`` method.
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

from cdp.errors import CDPError

if TYPE_CHECKING:
    from cdp.workspace import Workspace

__all__ = ["SERVICES", "workspace_status"]

#: Workspace attributes whose service may contribute ``status_warnings``
SERVICES = ("segments", "models", "privacy", "sync", "reports")


def _count(con: Any, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _service_warnings(ws: Workspace, con: Any) -> list[str]:
    out: list[str] = []
    for attr in SERVICES:
        try:
            service = getattr(ws, attr)
        except (ImportError, AttributeError):
            continue
        except Exception as exc:  # pragma: no cover - a service that cannot even be built
            out.append(f"{attr}: could not collect warnings ({type(exc).__name__})")
            continue
        except CDPError as exc:
            out.append(f"{attr}: {exc.detail}")
            continue
        fn = getattr(service, "status_warnings", None)
        if not callable(fn):
            continue
        try:
            params = [p for p in inspect.signature(fn).parameters.values()
                      if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            got = fn(con) if params else fn()
        except CDPError as exc:
            out.append(f"{attr}: {exc.detail}")
            continue
        except Exception as exc:  # another area's bug must not break `cdp status`
            out.append(f"{attr}: could not collect warnings ({type(exc).__name__})")
            continue
        out.extend(str(w) for w in (got or []))
    return out


def workspace_status(ws: Workspace) -> dict[str, Any]:
    """The status document (see the module docstring)."""
    from cdp.store import schema_version

    cfg = ws.config
    with ws.store() as con:
        status: dict[str, Any] = {
            "workspace": cfg.workspace.name,
            "root": str(ws.root),
            "customers": _count(con, "customers"),
            "events": _count(con, "events"),
            "identities": _count(con, "identities"),
            "consent_events": _count(con, "consent_events"),
            "rejects": _count(con, "rejects"),
            "merges": _count(con, "customer_merges"),
            "vault_entries": _count(con, "vault"),
            "suppressions": _count(con, "suppressions"),
        }
        status["events_by_type"] = dict(
            con.execute("SELECT event_type, count(*) FROM events GROUP BY ALL ORDER BY 2 DESC, 1").fetchall()
        )
        status["identities_by_kind"] = dict(
            con.execute("SELECT kind, count(*) FROM identities GROUP BY ALL ORDER BY 2 DESC, 1").fetchall()
        )
        runs = con.execute(
            "SELECT source, run_id, status, started_at, finished_at, rows_read, rows_loaded, rows_rejected, "
            "rows_skipped, corrections, columns_dropped FROM ingest_runs "
            "QUALIFY row_number() OVER (PARTITION BY source ORDER BY run_id DESC) = 1"
        ).fetchall()
        last = {r[0]: r for r in runs}
        sources: dict[str, Any] = {}
        warnings: list[str] = []
        for name, src in cfg.sources.items():
            r = last.get(name)
            entry: dict[str, Any] = {"kind": src.kind, "entity": src.entity, "enabled": src.enabled, "last_run": None}
            if r is not None:
                entry["last_run"] = {
                    "run_id": r[1], "status": r[2], "started_at": r[3], "finished_at": r[4], "rows_read": r[5],
                    "rows_loaded": r[6], "rows_rejected": r[7], "rows_skipped": r[8], "corrections": r[9],
                    "columns_dropped": sorted(json.loads(r[10] or "{}")),
                }
                if r[2] == "failed":
                    warnings.append(f"the last ingest of source '{name}' failed; run `cdp ingest {name}` again")
                elif r[7]:
                    warnings.append(f"source '{name}': {r[7]} row(s) rejected in the last run (see rejects)")
            elif src.enabled:
                warnings.append(f"source '{name}' has never been ingested; run `cdp ingest`")
            sources[name] = entry
        status["sources"] = sources
        last_ok = [r[4] for r in runs if r[2] == "ok" and r[4] is not None]
        status["last_ingest_at"] = max(last_ok) if last_ok else None
        status["recent_rejects"] = [
            {"source": s, "file": f, "line": ln, "column": c, "reason": why}
            for s, f, ln, c, why in con.execute(
                "SELECT source, file, line, column_name, reason FROM rejects ORDER BY rejected_at DESC, file, line LIMIT 10"
            ).fetchall()
        ]
        status["schema_version"] = schema_version(con)
        warnings.extend(_service_warnings(ws, con))
    status["store_bytes"] = ws.store_path.stat().st_size if ws.store_path.exists() else 0
    wal = ws.store_path.with_name(ws.store_path.name + ".wal")
    if wal.exists():
        status["store_bytes"] += wal.stat().st_size
    status["warnings"] = warnings
    return status

"""The audit log: every privacy-relevant action, who/what/when, never an identifier in clear."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

__all__ = ["actor", "record", "render_html", "report"]


def actor() -> str:
    """CDP_ACTOR when set, else the operating-system user (PRIVACY.md §8)."""
    env = os.environ.get("CDP_ACTOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


def record(con: Any, action: str, *, target: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append one audit entry. ``target`` must be pseudonymous (customer_id, request id, sync name)."""
    con.execute(
        "INSERT INTO audit_log (seq, logged_at, actor, action, target, details) "
        "VALUES (nextval('audit_seq'), now()::TIMESTAMP, ?, ?, ?, ?)",
        [actor(), action, target, json.dumps(details or {}, ensure_ascii=False, default=str)],
    )


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _has_column(con: Any, table: str, column: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?", [table, column]
    ).fetchone()[0])


def report(
    con: Any,
    start: Any,
    end: Any,
    *,
    ledger: dict[str, Any] | None = None,
    transfers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The audit report of PRIVACY.md §8 for [start, end) (naive UTC datetimes), as plain data."""
    coverage = _rows(
        con,
        """
        WITH latest AS (
            SELECT customer_id, purpose, channel, status FROM consent_events
            WHERE customer_id IS NOT NULL AND effective_at < ?
            QUALIFY row_number() OVER (PARTITION BY customer_id, purpose, channel
                                       ORDER BY effective_at DESC, seq DESC) = 1)
        SELECT purpose, channel,
               count(*) FILTER (WHERE status = 'granted') AS granted,
               count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
               count(*) FILTER (WHERE status = 'refused') AS refused
        FROM latest GROUP BY purpose, channel ORDER BY purpose, channel
        """,
        [end],
    )
    customers = int(con.execute("SELECT count(*) FROM customers").fetchone()[0])
    for row in coverage:
        row["coverage_pct"] = round(100.0 * row["granted"] / customers, 1) if customers else 0.0
    digest = ", justification_digest" if _has_column(con, "sync_runs", "justification_digest") else ""
    syncs = _rows(
        con,
        f"SELECT run_id, sync, destination, segment, purpose, started_at, status, dry_run, adds, removes, "
        f"exclusions{digest} FROM sync_runs WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
        [start, end],
    )
    gate = _rows(
        con,
        "SELECT logged_at, action, target AS destination, details FROM audit_log "
        "WHERE action IN ('gate.release', 'gate.refused') AND logged_at >= ? AND logged_at < ? ORDER BY seq",
        [start, end],
    )
    for g in gate:
        d = json.loads(g.pop("details") or "{}")
        g.update({k: d.get(k) for k in ("segment", "purpose", "released", "exclusions", "transfer_basis", "reason")})
    requests = _rows(
        con,
        "SELECT request_id, kind, status, received_at, due_at, completed_at FROM privacy_requests "
        "WHERE status = 'open' OR (received_at >= ? AND received_at < ?) ORDER BY due_at",
        [start, end],
    )
    destruction = _rows(
        con,
        "SELECT run_id, data_kind, method, rows, cutoff, ran_at FROM destruction_records "
        "WHERE ran_at = (SELECT max(ran_at) FROM destruction_records WHERE run_id LIKE 'RT-%') ORDER BY record_id",
    )
    actions = _rows(
        con,
        "SELECT action, count(*) AS n FROM audit_log WHERE logged_at >= ? AND logged_at < ? "
        "GROUP BY action ORDER BY action",
        [start, end],
    )
    return {
        "from": start,
        "to": end,
        "customers": customers,
        "consent_coverage": coverage,
        "syncs": syncs,
        "gate_decisions": gate,
        "transfers": transfers or [],
        "requests": requests,
        "ledger": ledger or {},
        "last_destruction_run": destruction,
        "audit_actions": actions,
    }


def _cell(value: Any) -> str:
    import html

    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return html.escape("" if value is None else str(value))


def _html_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{_cell(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(rep: dict[str, Any]) -> str:
    """A self-contained HTML page of :func:`report` (no scripts, no external resources)."""
    ledger = rep.get("ledger") or {}
    verdict = "verified" if ledger.get("ok") else f"FAILED at seq {ledger.get('first_bad_seq')}: {ledger.get('problem')}"
    sections = [
        ("Consent coverage by purpose and channel", _html_table(rep["consent_coverage"])),
        ("Syncs with basis and exclusions", _html_table(rep["syncs"])),
        ("Release gate decisions", _html_table(rep["gate_decisions"])),
        ("Cross-border transfers by destination and basis", _html_table(rep["transfers"])),
        ("Access and erasure requests (open ones with due dates)", _html_table(rep["requests"])),
        ("Consent ledger verification",
         f"<p>{_cell(verdict)} &middot; {_cell(ledger.get('entries'))} entries, "
         f"{_cell(ledger.get('checkpoints'))} checkpoints, {_cell(ledger.get('redacted'))} redacted</p>"),
        ("Last periodic destruction run", _html_table(rep["last_destruction_run"])),
        ("Audit log actions in the period", _html_table(rep["audit_actions"])),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Privacy audit report</title>',
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>",
        "<h1>Privacy audit report</h1>",
        f"<p>Period: {_cell(rep['from'])} to {_cell(rep['to'])} (UTC) &middot; customers: {_cell(rep['customers'])}</p>",
    ]
    for title, body in sections:
        parts.append(f"<h2>{_cell(title)}</h2>{body}")
    parts.append("</body></html>")
    return "\n".join(parts)

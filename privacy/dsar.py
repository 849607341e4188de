"""Access and portability (PRIVACY.md §6; KVKK Art. 11(1)(b-ç,g), GDPR Art. 15 and 20).

:func:`collect` gathers everything held on one customer (traits, decrypted contact
points, identities, events, consent history, objections, segments, model outputs with a
plain-language note, destinations and dates sent); :func:`render_html` makes the page a
person can read. The JSON and HTML are written only where the officer asks, never logged.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

__all__ = ["AUTOMATED_NOTE", "collect", "render_html", "to_json"]

AUTOMATED_NOTE = (
    "We analyse purchase history automatically to group customers (for example into value tiers "
    "such as platinum, gold or silver, and behaviour groups) and to estimate future purchases. "
    "These results decide which offers and messages you may receive; they have no legal effect on "
    "you and no decision is taken on you by automated means alone. You may object to this "
    "profiling at any time (KVKK Art. 11(1)(g), GDPR Art. 21); we then leave you out of it."
)


def _rows(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _table_exists(con: Any, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def collect(con: Any, customer_id: str, vault: Any = None) -> dict[str, Any]:
    """Everything held on ``customer_id``, as plain data."""
    from privacy.ledger import history

    traits = _rows(con, "SELECT * FROM customers WHERE customer_id = ?", [customer_id])
    contact = vault.get(customer_id) if vault is not None else {}
    out: dict[str, Any] = {
        "customer_id": customer_id,
        "generated_at": datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z",
        "traits": traits[0] if traits else {},
        "contact_points": contact,
        "identities": _rows(con, "SELECT kind, source, first_seen_at FROM identities WHERE customer_id = ? "
                            "ORDER BY kind, first_seen_at", [customer_id]),
        "events": _rows(con, "SELECT * FROM events WHERE customer_id = ? ORDER BY ts, event_id", [customer_id]),
        "consents": history(con, customer_id),
        "objections": _rows(con, "SELECT scope, effective_at, recorded_at, source FROM objections "
                            "WHERE customer_id = ? ORDER BY effective_at", [customer_id]),
        "segments": _rows(
            con,
            "SELECT b.segment, b.as_of, b.built_at, m.control FROM segment_members m "
            "JOIN segment_builds b ON b.build_id = m.build_id WHERE m.customer_id = ? ORDER BY b.as_of, b.segment",
            [customer_id],
        ),
        "model_outputs": _rows(con, "SELECT name AS model, version, label, score FROM model_scores "
                               "WHERE customer_id = ? ORDER BY name, version", [customer_id]),
        "automated_analysis_note": AUTOMATED_NOTE,
        "destinations": _rows(
            con,
            "SELECT s.destination, s.sync, s.synced_at AS first_sent_at FROM sync_state s WHERE s.customer_id = ? "
            "ORDER BY s.synced_at",
            [customer_id],
        ),
    }
    if _table_exists(con, "model_clv"):
        try:
            out["model_outputs"] += _rows(con, "SELECT * FROM model_clv WHERE customer_id = ?", [customer_id])
        except Exception:  # another area's table changed shape: the core answer still stands
            pass
    if out["destinations"]:
        # every run that sent the segment while the person was in it (dates sent)
        out["sync_runs"] = _rows(
            con,
            "SELECT r.sync, r.destination, r.segment, r.purpose, r.started_at, r.status FROM sync_runs r "
            "WHERE r.sync IN (SELECT sync FROM sync_state WHERE customer_id = ?) AND NOT r.dry_run "
            "AND r.started_at >= (SELECT min(synced_at) FROM sync_state WHERE customer_id = ?) ORDER BY r.started_at",
            [customer_id, customer_id],
        )
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(_plain(data), ensure_ascii=False, indent=2, sort_keys=False)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if r.get(c) is None else str(_plain(r.get(c))))}</td>" for c in cols)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_SECTIONS = (
    ("contact_points", "Contact details we hold (decrypted)"),
    ("traits", "What we know about your business"),
    ("identities", "Identifiers linked to you (stored only as keyed hashes)"),
    ("consents", "Your consent history"),
    ("objections", "Your objections"),
    ("segments", "Groups (segments) you were in"),
    ("model_outputs", "Results of automated analysis"),
    ("destinations", "Where your data was sent"),
    ("sync_runs", "When it was sent"),
    ("events", "Your purchases and other events"),
)


def render_html(data: dict[str, Any]) -> str:
    """A readable, self-contained HTML page of :func:`collect`'s result."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Personal data report</title>',
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
        "margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>",
        "<h1>Personal data report</h1>",
        f"<p>Reference: {html.escape(str(data.get('customer_id')))} &middot; generated "
        f"{html.escape(str(data.get('generated_at')))}</p>",
    ]
    for key, title in _SECTIONS:
        value = data.get(key)
        if value is None:
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if key == "model_outputs":
            parts.append(f"<p>{html.escape(AUTOMATED_NOTE)}</p>")
        rows = [value] if isinstance(value, dict) else value
        rows = [r for r in rows if r]
        parts.append(_table(rows))
    parts.append("</body></html>")
    return "\n".join(parts)

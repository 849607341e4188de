"""Record of processing (GDPR Art. 30) and VERBIS inventory (KVKK Art. 16), built from config.

The caller (cdp.compliance) turns cdp.toml into plain data: :class:`SourceInfo` per
source and :class:`~privacy.policy.DestinationTerms` per destination. A trait or property
with no declared purposes is listed as "not reviewed" (PRIVACY.md §2).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from privacy.policy import DestinationTerms, Policy, channel_for

__all__ = ["NOT_REVIEWED", "SourceInfo", "build", "render_html", "render_markdown"]

NOT_REVIEWED = "not reviewed"

# VERBIS data categories (Kişisel Veri Kategorisi) for our identifier and contact kinds
_CATEGORY = {
    "email": "İletişim (contact)",
    "phone": "İletişim (contact)",
    "full_name": "Kimlik (identity)",
    "first_name": "Kimlik (identity)",
    "last_name": "Kimlik (identity)",
    "national_id": "Kimlik (identity)",
    "tckn": "Kimlik (identity)",
    "tax_id": "Müşteri İşlem / Kimlik (tax number)",
    "vkn": "Müşteri İşlem / Kimlik (tax number)",
    "card": "Finans (finance)",
}


@dataclass(frozen=True)
class SourceInfo:
    name: str
    entity: str                     # customers | events | consents
    identifiers: tuple[str, ...] = ()
    contact: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


def build(
    policy: Policy,
    sources: list[SourceInfo],
    destinations: list[DestinationTerms],
    *,
    controller: str = "",
    syncs: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The inventory as plain data (JSON-ready)."""
    categories: dict[str, set[str]] = {}
    for s in sources:
        for k in (*s.identifiers, *s.contact):
            categories.setdefault(_CATEGORY.get(k, "Müşteri İşlem (customer transaction)"), set()).add(k)
        if s.entity == "events":
            categories.setdefault("Müşteri İşlem (customer transaction)", set()).add(f"events from {s.name}")
        if s.entity == "consents":
            categories.setdefault("Pazarlama (marketing permissions)", set()).add(f"consents from {s.name}")
    fields_: list[dict[str, Any]] = []
    for s in sources:
        for name in s.traits:
            allowed = policy.data_purposes.get(name)
            fields_.append({
                "field": name, "kind": "trait", "source": s.name,
                "purposes": list(allowed) if allowed else NOT_REVIEWED,
                "special_category": name in policy.special_categories,
            })
        for name in s.properties:
            allowed = policy.data_purposes.get(f"events.{name}")
            fields_.append({
                "field": f"events.{name}", "kind": "property", "source": s.name,
                "purposes": list(allowed) if allowed else NOT_REVIEWED, "special_category": False,
            })
    recipients = []
    for d in destinations:
        used_for = sorted({s["purpose"] for s in (syncs or []) if s.get("destination") == d.name})
        recipients.append({
            "destination": d.name, "kind": d.kind, "channel": d.channel,
            "country": (d.country or ("US" if d.abroad else "TR")).upper(),
            "abroad": d.abroad,
            "transfer_basis": d.transfer.basis if d.transfer else None,
            "transfer_signed_at": d.transfer.signed_at if d.transfer else None,
            "transfer_notified_at": d.transfer.notified_at if d.transfer else None,
            "transfer_missing": (d.transfer.missing() if d.transfer else ["transfer record"]) if d.abroad else [],
            "purposes": used_for,
            "data_sent": "hashed email/phone match keys" if d.kind in ("meta", "google_ads", "file")
            else "contact points needed for delivery",
        })
    return {
        "controller": controller or "(set [privacy] controller in cdp.toml)",
        "data_subjects": "business customers (tacir) and their contact persons (bireysel)",
        "data_categories": {k: sorted(v) for k, v in sorted(categories.items())},
        "purposes": [
            {"purpose": p.name, "description": p.description, "channel": channel_for(p.name, policy.purposes),
             "legal_basis": "explicit consent (KVKK Art. 5(1), GDPR Art. 6(1)(a))"
             + ("; opt-out for TACIR recipients (Law 6563 Art. 6(1))"
                if policy.tacir_opt_out and channel_for(p.name, policy.purposes) in ("email", "sms", "call") else "")}
            for p in policy.purposes.values()
        ],
        "fields": fields_,
        "not_reviewed": [f["field"] for f in fields_ if f["purposes"] == NOT_REVIEWED],
        "special_categories": list(policy.special_categories),
        "recipients": recipients,
        "transfers_abroad": [r for r in recipients if r["abroad"]],
        "retention": dict(policy.retention),
        "min_audience_size_ads": policy.min_audience_size_ads,
        "security_measures": [
            "direct identifiers pseudonymized with keyed HMAC-SHA256 before storage",
            "contact points encrypted with AES-256-GCM under per-customer keys, wrapped by a master key",
            "hash-chained consent ledger with Ed25519-signed checkpoints",
            "release gate: consent, objection, suppression, transfer record and minimum audience checks",
        ],
    }


def render_markdown(inv: dict[str, Any]) -> str:
    lines = ["# Record of processing (GDPR Art. 30) / VERBIS inventory (KVKK Art. 16)", "",
             f"Controller: {inv['controller']}", f"Data subjects: {inv['data_subjects']}", "",
             "## Data categories"]
    lines += [f"- {k}: {', '.join(v)}" for k, v in inv["data_categories"].items()] or ["- none declared"]
    lines += ["", "## Purposes and legal bases"]
    lines += [f"- {p['purpose']} ({p['channel']}): {p['legal_basis']}" + (f" — {p['description']}" if p["description"]
                                                                              else "") for p in inv["purposes"]]
    lines += ["", "## Traits and properties"]
    for f in inv["fields"]:
        purposes = f["purposes"] if isinstance(f["purposes"], str) else ", ".join(f["purposes"])
        lines.append(f"- {f['field']} ({f['source']}): {purposes}" + (" [special category]" if f["special_category"]
                                                                       else ""))
    lines += ["", "## Recipients and transfers abroad"]
    for r in inv["recipients"]:
        t = f"transfer basis {r['transfer_basis']}" if r["abroad"] else "in Türkiye"
        miss = f" — MISSING: {', '.join(r['transfer_missing'])}" if r["transfer_missing"] else ""
        lines.append(f"- {r['destination']} ({r['kind']}, {r['country']}): {t}{miss}")
    if not inv["recipients"]:
        lines.append("- none (privacy by default: no destination configured)")
    lines += ["", "## Retention periods"]
    lines += [f"- {k}: {v}" for k, v in inv["retention"].items()]
    lines += ["", "## Security measures"] + [f"- {m}" for m in inv["security_measures"]]
    return "\n".join(lines) + "\n"


def render_html(inv: dict[str, Any]) -> str:
    body = html.escape(render_markdown(inv))
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Record of processing</title></head>"
            f"<body><pre>{body}</pre></body></html>")

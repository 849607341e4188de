"""`cdp consent`: the consent ledger (import, grant, withdraw, object, show, verify, export).

Each command calls one ``ws.privacy`` method (cdp/compliance/service.py) and prints.
Identifiers given on the command line are never printed back.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="Consent ledger: import İYS files, grant, withdraw, object, show, verify, export.\n\n"
    "Example: cdp consent import iys_export.csv --format iys",
    no_args_is_help=True,
)

CUSTOMER = typer.Option(None, "--customer", help="Customer id (c_…).")
EMAIL = typer.Option(None, "--email", help="E-mail address (normalized and hashed, never stored in clear).")
PHONE = typer.Option(None, "--phone", help="Phone number (normalized to E.164 and hashed).")
JSON = typer.Option(False, "--json", help="Print JSON for scripts.")
AT_HELP = "Effective time, ISO-8601; without an offset it is workspace-local time. Default: now."


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


def _when(ws: Any, text: str | None) -> datetime | None:
    if not text:
        return None
    from cdp.errors import PrivacyError

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PrivacyError(f"'{text}' is not an ISO-8601 date or time") from exc
    return ws.privacy.local_to_utc(value)


def _emit(obj: Any) -> None:
    from cdp.cli.output import emit_json

    emit_json(obj)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="İYS export (CSV/JSON) or our consent CSV."),
    fmt: str = typer.Option("auto", "--format", help="iys | csv | auto (detected from the columns)."),
    strict: bool = typer.Option(False, "--strict", help="Write nothing when any row is rejected."),
    json_out: bool = JSON,
) -> None:
    """Import consents; idempotent (a re-import adds nothing); bad rows are listed with line numbers.

    İYS: EPOSTA→email_marketing/email, MESAJ→sms_marketing/sms, ARAMA→call_marketing/call;
    ONAY→granted, RET→refused (withdrawn after an ONAY); consentDate in Turkish time.
    Unknown recipients are kept as pending consents and attach when they first appear.

    Example: cdp consent import iys_2026-01.csv --format iys
    """
    res = _ws().privacy.consent_import(file, fmt, strict=strict)
    if json_out:
        _emit(res)
    else:
        print(f"{res['file']} ({res['format']}): {res['appended']} appended, {res['already_present']} already present, "
              f"{res['pending']} pending (recipient not yet known), {res['suppressed']} suppressed, "
              f"{res['rejected']} rejected")
        for r in res["rejects"][:20]:
            print(f"  line {r['line']}: field '{r['field']}': {r['reason']}")
        if len(res["rejects"]) > 20:
            print(f"  ... {len(res['rejects']) - 20} more")


def _change(status: str, customer: str | None, email: str | None, phone: str | None, purpose: str,
            channel: str | None, source: str | None, notice_version: str | None, text_version: str | None,
            evidence: str | None, recipient_type: str | None, expires: str | None, at: str | None,
            json_out: bool) -> None:
    ws = _ws()
    res = ws.privacy.consent_change(
        status, customer=customer, email=email, phone=phone, purpose=purpose, channel=channel, source=source,
        notice_version=notice_version, text_version=text_version, evidence=evidence, recipient_type=recipient_type,
        expires_at=_when(ws, expires), at=_when(ws, at))
    if json_out:
        _emit(res)
        return
    who = res["customer_id"] or "a not-yet-known recipient (pending)"
    verb = "already recorded" if not res["appended"] else f"recorded as seq {res['seq']}"
    print(f"{status} {res['purpose']} on {res['channel']} for {who}: {verb}")


@app.command("grant")
def grant(
    customer: str = CUSTOMER, email: str = EMAIL, phone: str = PHONE,
    purpose: str = typer.Option(..., "--purpose", help="email_marketing, sms_marketing, call_marketing, ads_targeting, analytics, …"),
    channel: str = typer.Option(None, "--channel", help="email | sms | call | ads | any (default: the purpose's own)."),
    source: str = typer.Option(None, "--source", help="Where it was collected (İYS source code such as HS_WEB)."),
    notice_version: str = typer.Option(None, "--notice-version", help="Privacy notice version shown (KVKK Art. 10)."),
    text_version: str = typer.Option(None, "--text-version", help="Consent text version (GDPR Art. 7(2))."),
    evidence: str = typer.Option(None, "--evidence", help="Evidence reference (form id, recording id)."),
    recipient_type: str = typer.Option(None, "--recipient-type", help="BIREYSEL or TACIR."),
    expires: str = typer.Option(None, "--expires", help="Expiry time (ISO-8601)."),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    json_out: bool = JSON,
) -> None:
    """Record a consent grant in the ledger (signed checkpoint).

    Example: cdp consent grant --email ali@example.com --purpose email_marketing --source HS_WEB --notice-version v3
    """
    _change("granted", customer, email, phone, purpose, channel, source, notice_version, text_version, evidence,
            recipient_type, expires, at, json_out)


@app.command("withdraw")
def withdraw(
    customer: str = CUSTOMER, email: str = EMAIL, phone: str = PHONE,
    purpose: str = typer.Option(..., "--purpose", help="The purpose withdrawn."),
    channel: str = typer.Option(None, "--channel", help="email | sms | call | ads | any (default: the purpose's own)."),
    source: str = typer.Option(None, "--source", help="Where the withdrawal was received."),
    evidence: str = typer.Option(None, "--evidence", help="Evidence reference."),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    json_out: bool = JSON,
) -> None:
    """Record a withdrawal; every later sync removes the person (GDPR Art. 7(3)).

    Example: cdp consent withdraw --customer c_1a2b3c --purpose email_marketing
    """
    _change("withdrawn", customer, email, phone, purpose, channel, source, None, None, evidence, None, None, at,
            json_out)


@app.command("object")
def object_(
    customer: str = CUSTOMER, email: str = EMAIL, phone: str = PHONE,
    scope: str = typer.Option("direct_marketing", "--scope", help="direct_marketing (every audience) or profiling."),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    json_out: bool = JSON,
) -> None:
    """Record an objection: do-not-market excludes the person from every audience (GDPR Art. 21);
    profiling keeps them out of models and model-based segments (KVKK Art. 11(1)(g)).

    Example: cdp consent object --email ali@example.com --scope direct_marketing
    """
    ws = _ws()
    res = ws.privacy.consent_object(customer=customer, email=email, phone=phone, scope=scope, at=_when(ws, at))
    if json_out:
        _emit(res)
    elif res["suppressed"]:
        print(f"objection ({scope}) recorded: the identifier is unknown, so it is suppressed for good")
    else:
        print(f"objection ({scope}) recorded for {res['customer_id']}")


@app.command("show")
def show(
    customer: str = CUSTOMER, email: str = EMAIL, phone: str = PHONE,
    at: str = typer.Option(None, "--as-of", help="State at this time (ISO-8601, workspace-local). Default: now."),
    json_out: bool = JSON,
) -> None:
    """Show a person's consent history and current state per purpose × channel.

    Example: cdp consent show --email ali@example.com
    """
    ws = _ws()
    res = ws.privacy.consent_show(customer=customer, email=email, phone=phone, at=_when(ws, at))
    if json_out:
        _emit(res)
        return
    from rich.table import Table

    from cdp.cli.output import console

    c = console()
    c.print(f"customer: {res['customer_id'] or 'not yet known (pending consents only)'}")
    if res["state"]:
        t = Table(title="state")
        for col in ("purpose", "channel", "status", "valid", "seq"):
            t.add_column(col)
        for s in res["state"]:
            t.add_row(s["purpose"], s["channel"], s["status"] or "-", "yes" if s["valid"] else "no",
                      "" if s["seq"] is None else str(s["seq"]))
        c.print(t)
    for o in res["objections"]:
        c.print(f"objection: {o['scope']} since {o['effective_at']}")
    h = Table(title="history")
    for col in ("seq", "effective_at", "purpose", "channel", "status", "source"):
        h.add_column(col)
    for e in res["history"]:
        h.add_row(str(e["seq"]), str(e["effective_at"]), e["purpose"], e["channel"], e["status"], e.get("source") or "")
    c.print(h)


@app.command("verify")
def verify(json_out: bool = JSON) -> None:
    """Recompute the hash chain and check every signed checkpoint; exit 1 naming the first bad seq.

    Example: cdp consent verify
    """
    res = _ws().privacy.consent_verify()
    if json_out:
        _emit(res.to_dict())
    elif res.ok:
        print(f"ok: {res.entries} entries ({res.redacted} redacted), {res.checkpoints} checkpoints, "
              f"head seq {res.head_seq} hash {res.head_hash}")
    else:
        import sys

        print(f"error: consent ledger does not verify: first bad seq {res.first_bad_seq}: {res.problem}",
              file=sys.stderr)
    if not res.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    out: Path = typer.Option(Path("consents.csv"), "--out", "-o", help="File to write."),
    iys: bool = typer.Option(False, "--iys", help="Only consents we collected, in İYS's shape, for registration."),
    json_out: bool = JSON,
) -> None:
    """Export consents: --iys writes the ones we collected ourselves for İYS registration
    (within 3 business days); without it the whole ledger, pseudonymous.

    Example: cdp consent export --iys --out iys_upload.csv
    """
    res = _ws().privacy.consent_export(out, iys=iys)
    if json_out:
        _emit(res)
    else:
        extra = f" ({res['without_contact']} skipped: no contact point in the vault)" if res.get("without_contact") else ""
        print(f"wrote {res['rows']} consent(s) to {res['file']}{extra}")

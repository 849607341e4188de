"""`cdp privacy`: erasure, access requests, the request register, retention, PII scan,
inventory and key rotation. Each command calls one ``ws.privacy`` method and prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="Privacy operations: forget, dsar, requests, retention, scan, inventory, rotate-keys.\n\n"
    "Example: cdp privacy forget --email ali@example.com --reason 'customer request'",
    no_args_is_help=True,
)
retention_app = typer.Typer(
    help="Periodic destruction (at most every 6 months).\n\nExample: cdp privacy retention run",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")

CUSTOMER = typer.Option(None, "--customer", help="Customer id (c_…).")
EMAIL = typer.Option(None, "--email", help="E-mail address (hashed, never printed).")
PHONE = typer.Option(None, "--phone", help="Phone number (hashed, never printed).")
JSON = typer.Option(False, "--json", help="Print JSON for scripts.")


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


def _emit(obj: Any) -> None:
    from cdp.cli.output import emit_json

    emit_json(obj)


def _table(title: str, rows: list[dict[str, Any]], cols: list[str]) -> None:
    from rich.table import Table

    from cdp.cli.output import console

    t = Table(title=title)
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in cols])
    console().print(t)


@app.command("forget")
def forget(
    customer: str = CUSTOMER, email: str = EMAIL, phone: str = PHONE,
    reason: str = typer.Option(None, "--reason", help="Why (kept in the request register)."),
    no_compact: bool = typer.Option(False, "--no-compact", help="Skip rewriting the store files now "
                                    "(the next forget or retention run does it)."),
    resume: bool = typer.Option(False, "--resume", help="Finish every interrupted erasure instead."),
    json_out: bool = JSON,
) -> None:
    """Erase a person: request record (due in 30 days), removal queue per destination, hard delete,
    data key destroyed, identifiers suppressed; resumes if interrupted (KVKK Art. 7, GDPR Art. 17).

    Example: cdp privacy forget --email ali@example.com --reason "customer request"
    """
    ws = _ws()
    if resume:
        res: Any = ws.privacy.resume_erasures(compact=not no_compact)
        if json_out:
            _emit(res)
        else:
            print(f"resumed {len(res)} erasure(s)")
        return
    res = ws.privacy.forget(customer=customer, email=email, phone=phone, reason=reason, compact=not no_compact)
    if json_out:
        _emit(res)
    elif res["status"] == "already_erased":
        print("already erased: nothing is held on this identifier except its suppression entry")
    else:
        c = res["counts"]
        print(f"erasure {res['request_id']}: done; {c.get('removals_queued', 0)} destination removal(s) queued, "
              f"{c.get('identifiers_suppressed', 0)} identifier(s) suppressed, data key "
              f"{'destroyed' if c.get('data_key_destroyed') else 'not present'}")


@app.command("dsar")
def dsar(
    customer: str = CUSTOMER, email: str = EMAIL, phone: str = PHONE,
    out: Path = typer.Option(None, "--out", help="Folder for the JSON and HTML (default reports/dsar/<request>)."),
    json_out: bool = JSON,
) -> None:
    """Access request: everything held on the person as JSON and a readable HTML page,
    contact points decrypted (KVKK Art. 11, GDPR Art. 15 and 20).

    Example: cdp privacy dsar --email ali@example.com --out ./dsar
    """
    res = _ws().privacy.dsar(customer=customer, email=email, phone=phone, out=out)
    if json_out:
        _emit(res)
    else:
        print(f"access request {res['request_id']}: wrote {res['json']} and {res['html']} "
              f"({res['events']} events, {res['consents']} consent events, {res['segments']} segment memberships)")


@app.command("requests")
def requests(
    all_: bool = typer.Option(False, "--all", help="Include finished requests."),
    json_out: bool = JSON,
) -> None:
    """The request register: open access and erasure requests with due dates (30 days).

    Example: cdp privacy requests --all
    """
    rows = _ws().privacy.requests(all_=all_)
    if json_out:
        _emit(rows)
    else:
        _table("privacy requests", rows, ["request_id", "kind", "status", "received_at", "due_at", "completed_at",
                                          "overdue"])


@retention_app.command("run")
def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be destroyed, change nothing."),
    json_out: bool = JSON,
) -> None:
    """Delete or redact what is past its retention period and write destruction records.

    Example: cdp privacy retention run --dry-run
    """
    res = _ws().privacy.retention_run(dry_run=dry_run)
    if json_out:
        _emit(res)
    else:
        _table(f"retention run {res['run_id']}" + (" (dry run)" if dry_run else ""), res["items"],
               ["data_kind", "method", "rows", "cutoff"])


@retention_app.command("status")
def retention_status(json_out: bool = JSON) -> None:
    """When the last periodic destruction ran, and whether one is due.

    Example: cdp privacy retention status
    """
    res = _ws().privacy.retention_status()
    if json_out:
        _emit(res)
    else:
        print(f"last run: {res['last_run'] or 'never'}; " + ("OVERDUE" if res["overdue"] else "not due") +
              f" (interval {res['interval_months']} months)")
        for k, v in res["retention"].items():
            print(f"  {k}: {v}")


@app.command("scan")
def scan(
    source: str = typer.Argument(None, help="A source name from cdp.toml (default: every source)."),
    store: bool = typer.Option(False, "--store", help="Scan the store's traits and properties instead."),
    json_out: bool = JSON,
) -> None:
    """Look for identifiers hiding in traits and properties: emails, Turkish phones, TCKN, VKN,
    TR IBANs, card numbers (checksums validated). Counts only, never values.

    Example: cdp privacy scan customers
    """
    rows = _ws().privacy.scan(source, store=store)
    if json_out:
        _emit(rows)
    elif not rows:
        print("no identifiers found outside the declared identifier columns")
    else:
        _table("possible identifiers", rows, ["where", "column", "kind", "count"])
        raise typer.Exit(1)


@app.command("inventory")
def inventory(
    out: Path = typer.Option(None, "--out", help="Folder for inventory.md/.html/.json."),
    json_out: bool = JSON,
) -> None:
    """Record of processing (GDPR Art. 30) and VERBIS inventory (KVKK Art. 16) from cdp.toml;
    traits with no declared purposes are listed as "not reviewed".

    Example: cdp privacy inventory --out compliance/
    """
    inv = _ws().privacy.inventory(out)
    if json_out:
        _emit(inv)
    else:
        from privacy.inventory import render_markdown

        print(render_markdown(inv))


@app.command("rotate-keys")
def rotate_keys(json_out: bool = JSON) -> None:
    """Re-wrap every data key and secret under a new master key (the key is never printed).

    Example: cdp privacy rotate-keys
    """
    res = _ws().privacy.rotate_keys()
    if json_out:
        _emit(res)
    else:
        print(f"re-wrapped {res['keys_rewrapped']} key(s) under a new master key")
        if res["new_key_file"]:
            print(f"the master key came from CDP_MASTER_KEY: the new one is in {res['new_key_file']} (mode 0600); "
                  "set CDP_MASTER_KEY to its content, then delete the file")

"""`cdp audit`: the privacy audit report and the auditor's pack."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="Audit: report for a date range, or a pack of everything an auditor asks for.\n\n"
    "Example: cdp audit report --from 2026-01-01 --to 2026-04-01 --html audit.html",
    no_args_is_help=True,
)


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


def _date(ws: Any, text: str | None) -> datetime | None:
    if not text:
        return None
    from cdp.errors import PrivacyError

    try:
        return ws.privacy.local_to_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise PrivacyError(f"'{text}' is not a date (YYYY-MM-DD)") from exc


@app.command("report")
def report(
    from_: str = typer.Option(None, "--from", help="Start date (workspace-local; default: a year ago)."),
    to: str = typer.Option(None, "--to", help="End date, exclusive (default: now)."),
    html: Path = typer.Option(None, "--html", help="Write the report as an HTML page."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Consent coverage, syncs with basis and exclusions, transfers, open requests, ledger check,
    last destruction run (PRIVACY.md §8).

    Example: cdp audit report --from 2026-01-01 --html reports/audit.html
    """
    ws = _ws()
    rep = ws.privacy.audit_report(_date(ws, from_), _date(ws, to), html)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(rep)
        return
    led = rep["ledger"]
    print(f"period {rep['from']} .. {rep['to']} (UTC); customers {rep['customers']}")
    print("ledger: " + ("verified" if led.get("ok") else f"FAILED at seq {led.get('first_bad_seq')}") +
          f" ({led.get('entries')} entries)")
    for c in rep["consent_coverage"]:
        print(f"  {c['purpose']}/{c['channel']}: {c['granted']} granted ({c['coverage_pct']}%), "
              f"{c['withdrawn']} withdrawn, {c['refused']} refused")
    print(f"syncs: {len(rep['syncs'])}; gate decisions: {len(rep['gate_decisions'])}; "
          f"transfers abroad: {len(rep['transfers'])}; open requests: "
          f"{sum(1 for r in rep['requests'] if r['status'] == 'open')}")
    if html:
        print(f"wrote {html}")


@app.command("pack")
def pack(
    folder: Path = typer.Argument(..., help="Folder to write (created)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Bundle the ledger, request register, destruction records, transfer register, sync receipts
    and inventory into one folder an auditor can read.

    Example: cdp audit pack audit-2026Q1
    """
    res = _ws().privacy.audit_pack(folder)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(res)
    else:
        print(f"wrote {len(res['files']) + 4} files to {res['folder']}; ledger "
              + ("verified" if res["ledger_ok"] else "DOES NOT VERIFY"))

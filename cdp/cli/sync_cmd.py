"""`cdp sync`: run syncs, show their status and history.

Thin: each command calls one ``ws.sync`` method (cdp/sync/service.py) and prints a rich
table for people or ``--json`` for scripts. No identifier is ever printed: dry-run
samples show hashed values only.
"""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(
    help="Syncs: push released audiences to ad and email platforms.\n\n"
    "Example: cdp sync run platinum_to_meta --dry-run",
    no_args_is_help=True,
)

AS_OF_HELP = "Build the segment as of this time (workspace time zone; YYYY-MM-DD or a timestamp); default now."


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    from cdp.cli.output import console

    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right" if col in {"adds", "removes", "sent", "accepted", "invalid", "run",
                                                          "released", "batches"} else "left")
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    console().print(table)


def _cell(value: Any) -> str:
    from datetime import datetime

    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _reasons(d: dict[str, int] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted((d or {}).items())) or "-"


@app.command("run")
def run(
    syncs: list[str] = typer.Argument(None, help="Syncs to run (default: every enabled sync in cdp.toml)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Do everything but send: counts, exclusions, sample bodies."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Build (unless a build at --as-of exists), release through the privacy gate, diff, send.

    Exits 1 when any sync failed, ended partial or was refused.

    Example: cdp sync run platinum_to_meta --dry-run --as-of 2026-01-31
    """
    import sys

    from cdp.cli.output import emit_json, err_console

    ws = _ws()
    bars: dict[str, Any] = {}
    progress_ctx = None
    if not json_out and not dry_run and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        progress_ctx = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                console=err_console(), transient=True)

    def on_progress(name: str, done: int, total: int, sent: int) -> None:
        if progress_ctx is None:
            return
        if name not in bars:
            bars[name] = progress_ctx.add_task(f"{name} (batches)", total=total)
        progress_ctx.update(bars[name], completed=done, total=total)

    if progress_ctx is not None:
        with progress_ctx:
            results = ws.sync.run(syncs or None, dry_run=dry_run, as_of=as_of, progress=on_progress)
    else:
        results = ws.sync.run(syncs or None, dry_run=dry_run, as_of=as_of, progress=on_progress)
    bad = [r for r in results if r.get("status") not in ("ok",)]
    if not results and not json_out:
        print("no sync is configured; add [destinations.NAME] and [syncs.NAME] to cdp.toml (docs/destinations.md)")
        return
    if json_out:
        emit_json(results)
    else:
        _print_results(results, dry_run)
    if bad:
        raise typer.Exit(1)


def _print_results(results: list[dict[str, Any]], dry_run: bool) -> None:
    import json

    from cdp.cli.output import console

    rows = []
    for r in results:
        rows.append([r["sync"], r.get("status"), r.get("adds"), r.get("removes"),
                     _reasons(r.get("removal_reasons")), _reasons(r.get("exclusions")), r.get("run_id")])
    _table("dry run (nothing sent)" if dry_run else "sync results",
           ["sync", "status", "adds", "removes", "removal reasons", "excluded by the gate", "run"], rows)
    out = console()
    for r in results:
        if r.get("error"):
            out.print(f"[bold]{r['sync']}[/bold]: {r['error']}", markup=True, highlight=False)
        for op, body in (r.get("samples") or {}).items():
            out.print(f"[bold]{r['sync']}[/bold] sample {op} request body (identifiers hashed):", markup=True)
            text = json.dumps(body, ensure_ascii=False, indent=2)
            out.print(text if len(text) < 4000 else text[:4000] + "\n…", markup=False, highlight=False)


@app.command("status")
def status(json_out: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The last run of every sync: state, adds/removes, exclusions by reason, errors.

    Example: cdp sync status
    """
    from cdp.cli.output import console, emit_json

    items = _ws().sync.status()
    if json_out:
        emit_json(items)
        return
    rows = [[i["sync"], i["destination"], i.get("status") + (" (running now)" if i.get("running_now") else ""),
             "dry run" if i.get("dry_run") else "", i.get("started_at"), i.get("adds"), i.get("removes"),
             _reasons(i.get("exclusions")), i.get("schedule") or ""] for i in items]
    _table("syncs", ["sync", "destination", "last status", "", "started (UTC)", "adds", "removes",
                     "excluded by the gate", "schedule"], rows)
    for i in items:
        if i.get("error"):
            console().print(f"{i['sync']}: {i['error']}", markup=False, highlight=False)


@app.command("history")
def history(
    sync: str = typer.Argument(..., help="The sync's name in cdp.toml."),
    limit: int = typer.Option(20, "--limit", help="How many runs to show (newest first)."),
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Runs of one sync with counts and the platform's own response counts.

    Example: cdp sync history platinum_to_meta --limit 5
    """
    from cdp.cli.output import emit_json

    items = _ws().sync.history(sync, limit)
    if json_out:
        emit_json(items)
        return
    rows = []
    for i in items:
        pc = i.get("platform_counts") or {}
        counts = "; ".join(f"{op}: " + ", ".join(f"{k} {v:g}" for k, v in sorted(c.items())) for op, c in pc.items())
        rows.append([i["run_id"], i.get("started_at"), i.get("status") + (" (dry run)" if i.get("dry_run") else ""),
                     i.get("adds"), i.get("removes"), i.get("sent"), i.get("accepted"), i.get("invalid"),
                     counts or "-", (i.get("error") or "")[:80]])
    _table(f"history of {sync}", ["run", "started (UTC)", "status", "adds", "removes", "sent", "accepted", "invalid",
                                  "platform counts", "error"], rows)

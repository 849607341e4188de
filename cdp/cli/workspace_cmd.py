"""Top-level `cdp` commands of the workspace: init, ingest, status, demo.

Each parses options, calls one :class:`cdp.Workspace` method (or ``cdp.demo.run_demo``)
and prints: rich for people, ``--json`` for scripts. Heavy imports stay inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from cdp.errors import CDPError

__all__ = ["register"]

_MASTER_KEY_NOTE = (
    "Keep {where} safe and backed up apart from the data: losing the master key makes the vault "
    "(encrypted contact points) unreadable, and nobody can recover it."
)


def _fmt(n: Any) -> str:
    return f"{int(n):,}" if isinstance(n, int) else str(n)


def _progress_bar() -> tuple[Any, Any]:
    """A rich progress display and a ``progress(source, phase, done, total)`` callback."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cdp.cli.output import err_console

    bar = Progress(
        SpinnerColumn(), TextColumn("[bold]{task.fields[source]}[/] {task.description}"), BarColumn(),
        TextColumn("{task.completed:,.0f} rows"), TimeElapsedColumn(), console=err_console(), transient=True,
    )
    tasks: dict[str, Any] = {}

    def progress(source: str, phase: str, done: int, total: int | None) -> None:
        task = tasks.get(source)
        if task is None:
            task = tasks[source] = bar.add_task(phase, source=source, total=None)
        label = {"read": "reading", "resolve": "resolving identities", "load": "loading", "done": "done"}.get(phase, phase)
        bar.update(task, description=label, completed=done, total=total)

    return bar, progress


def init(
    directory: Path = typer.Argument(Path("."), help="Folder of the new workspace (created if missing)."),
    name: str = typer.Option(None, "--name", help="Workspace name (default: the folder name)."),
    json_out: bool = typer.Option(False, "--json", help="Print what was created as JSON."),
) -> None:
    """Create a workspace: cdp.toml with comments, segments/, reports/, data/, .gitignore and
    .cdp/ (store, key store, master key with mode 0600 unless CDP_MASTER_KEY is set).

    Nothing is overwritten in an existing workspace.

    Example: cdp init my-shop && cd my-shop && cdp status
    """
    from cdp.workspace import Workspace

    ws = Workspace.init(directory, name=name)
    info = ws.init_info
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(info)
        return
    from cdp.cli.output import console

    con = console()
    con.print(f"workspace ready at [bold]{info['root']}[/]")
    if info["created"]:
        con.print("created: " + ", ".join(info["created"]))
    if info["master_key_created"]:
        con.print("[yellow]" + _MASTER_KEY_NOTE.format(where=info["master_key"]) + "[/]")
    con.print("next: add sources to cdp.toml, then `cdp ingest` and `cdp status`")


def ingest(
    sources: list[str] = typer.Argument(None, help="Sources to ingest (default: every enabled source)."),
    strict: bool = typer.Option(False, "--strict", help="Fail and write nothing if any row is rejected."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Ingest the sources of cdp.toml: normalize and pseudonymize identifiers, resolve identities,
    load traits, events and consents. Re-running reads only new files and rows.

    Example: cdp ingest customers events --strict
    """
    from cdp.workspace import Workspace

    ws = Workspace.find()
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(ws.ingest(sources or None, strict=strict).to_dict())
        return
    bar, progress = _progress_bar()
    with bar:
        report = ws.ingest(sources or None, strict=strict, progress=progress)
    _print_ingest(report)


def _print_ingest(report: Any) -> None:
    from rich.table import Table

    from cdp.cli.output import console

    table = Table(title="ingest")
    for col in ("source", "files", "read", "loaded", "rejected", "skipped", "fixed", "new", "merged"):
        table.add_column(col, justify="left" if col == "source" else "right", no_wrap=True)
    for s in report.sources:
        table.add_row(
            s.source, _fmt(s.files), _fmt(s.rows_read), _fmt(s.rows_loaded), _fmt(s.rows_rejected),
            _fmt(s.rows_suppressed + s.rows_unchanged), _fmt(s.corrections), _fmt(s.customers_new),
            _fmt(s.customers_merged),
        )
    con = console()
    con.print(table)
    con.print("skipped: suppressed or unchanged rows; fixed: corrected events; new/merged: customers")
    for s in report.sources:
        if s.columns_dropped:
            con.print(f"{s.source}: undeclared columns dropped: {', '.join(sorted(s.columns_dropped))}")
        if s.first_reject:
            con.print(f"[yellow]{s.source}: {s.rows_rejected:,} row(s) rejected, first at {s.first_reject}[/]")
        for kind, n in s.identifiers_invalid.items():
            con.print(f"{s.source}: {n:,} value(s) of '{kind}' are not valid identifiers and were ignored")
    for w in report.warnings:
        con.print(f"[yellow]warning:[/] {w}")
    con.print(f"done in {report.seconds:.1f} s")


def status(
    json_out: bool = typer.Option(False, "--json", help="Print the status as JSON (shape: docs/cli.md)."),
) -> None:
    """Show what the store holds: customers, identities, events by type, consents, rejects, the last
    ingest per source, store size, schema version and warnings from every area.

    Example: cdp status --json | jq .customers
    """
    from cdp.workspace import Workspace

    st = Workspace.find().status()
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(st)
        return
    from rich.table import Table

    from cdp.cli.output import console

    con = console()
    con.print(f"[bold]{st['workspace']}[/] ({st['root']}), schema v{st['schema_version']}, "
              f"store {st['store_bytes'] / 1e6:,.1f} MB")
    counts = Table(show_header=False, box=None)
    for key in ("customers", "identities", "merges", "events", "consent_events", "suppressions", "rejects"):
        counts.add_row(key.replace("_", " "), _fmt(st[key]))
    con.print(counts)
    if st["events_by_type"]:
        con.print("events by type: " + ", ".join(f"{k} {v:,}" for k, v in st["events_by_type"].items()))
    table = Table(title="sources")
    for col in ("source", "entity", "last run", "status", "read", "loaded", "rejected"):
        table.add_column(col)
    for name, src in st["sources"].items():
        r = src["last_run"] or {}
        table.add_row(name, src["entity"], str(r.get("finished_at") or "never")[:19], r.get("status", "-"),
                      _fmt(r.get("rows_read", "")), _fmt(r.get("rows_loaded", "")), _fmt(r.get("rows_rejected", "")))
    con.print(table)
    for w in st["warnings"]:
        con.print(f"[yellow]warning:[/] {w}")


def demo(
    directory: Path = typer.Argument(Path("cdp-demo"), help="Folder of the demo workspace."),
    customers: int = typer.Option(5_000, "--customers", "-n", help="Number of customers to generate."),
    seed: int = typer.Option(42, "--seed", help="Random seed (the same seed gives the same data)."),
    end_date: Optional[str] = typer.Option(None, "--end-date", help="Last day of generated history (default: yesterday)."),
    fresh: bool = typer.Option(False, "--fresh", help="Empty an existing demo folder and start over."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Create a demo workspace with a synthetic Turkish cash & carry wholesaler: generate the data,
    ingest it, train the models, build the segments, dry-run two syncs, and print what it did.

    Example: cdp demo ./cdp-demo --customers 100000 --seed 7
    """
    from datetime import date as _date

    from cdp.demo import run_demo

    end = None
    if end_date:
        try:
            end = _date.fromisoformat(end_date)
        except ValueError as exc:
            raise CDPError(f"--end-date: not a date: {end_date}", hint="use YYYY-MM-DD") from exc
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(run_demo(directory, customers, seed, None, end_date=end, fresh=fresh))
        return
    bar, progress = _progress_bar()
    with bar:
        summary = run_demo(directory, customers, seed, progress, end_date=end, fresh=fresh)
    _print_demo(summary or {})


def _print_demo(summary: dict) -> None:  # noqa: C901 - a report, read top to bottom
    from rich.table import Table

    from cdp.cli.output import console

    con = console()
    con.print(f"[bold]demo workspace[/] {summary.get('workspace')} ready in {summary.get('seconds', 0):.1f} s")
    con.print(
        f"  customers {_fmt(summary.get('customers'))} · events {_fmt(summary.get('events'))} · "
        f"identities {_fmt(summary.get('identities'))} ({_fmt(summary.get('identities_merged'))} merged across sources) · "
        f"consent events {_fmt(summary.get('consents'))} · rejected rows {_fmt(summary.get('rejects'))}"
    )
    dropped = summary.get("columns_dropped") or []
    if dropped:
        con.print(f"  columns dropped (not declared in cdp.toml): {', '.join(dropped)}")
    models = summary.get("models") or {}
    if models:
        t = Table("model", "algorithm", "version", "metrics", title="models trained")
        for name, m in models.items():
            metrics = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in m.items() if k not in ("algorithm", "version"))
            t.add_row(name, str(m.get("algorithm")), str(m.get("version")), metrics)
        con.print(t)
    segments = summary.get("segments") or {}
    if segments:
        t = Table("segment", "members", "control", title="segments built")
        for name, b in sorted(segments.items(), key=lambda kv: -kv[1]["members"]):
            t.add_row(name, _fmt(b["members"]), _fmt(b["control"]))
        con.print(t)
    syncs = summary.get("syncs") or {}
    if syncs:
        t = Table("sync", "destination", "segment", "status", "would add", "excluded, by reason", title="syncs (dry run: nothing sent)")
        for name, r in syncs.items():
            ex = ", ".join(f"{k} {v}" for k, v in sorted((r.get("exclusions") or {}).items(), key=lambda kv: -kv[1]))
            status = str(r.get("status", ""))
            if r.get("error"):
                status += f": {r['error']}".split("\n")[0][:80]
            t.add_row(name, str(r.get("destination", "")), str(r.get("segment", "")), status, _fmt(r.get("adds")), ex)
        con.print(t)
    steps = summary.get("next_steps") or []
    if steps:
        con.print("[bold]next[/]:")
        for line in steps:
            con.print(f"  {line}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("init")(init)
    app.command("ingest")(ingest)
    app.command("status")(status)
    app.command("demo")(demo)

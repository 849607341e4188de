"""`cdp schedule`: run the cron schedules of cdp.toml, or list the next runs."""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(
    help="Schedules: run syncs on their cron schedules (workspace time zone).\n\nExample: cdp schedule list",
    no_args_is_help=True,
)


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


@app.command("list")
def list_(json_out: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The next run of each scheduled sync, in the workspace time zone and UTC.

    Example: cdp schedule list --json
    """
    from cdp.cli.output import console, emit_json

    items = _ws().sync.schedule()
    if json_out:
        emit_json(items)
        return
    from rich.table import Table

    table = Table(title="scheduled syncs")
    for col in ("sync", "schedule", "next run (local)", "next run (UTC)", "note"):
        table.add_column(col)
    for i in items:
        table.add_row(i["sync"], i["schedule"], str(i["next_run_local"]), str(i["next_run_utc"]),
                      "missed run: catches up at start" if i["catch_up"] else "")
    console().print(table)
    if not items:
        console().print("no sync has a schedule; add schedule = \"0 6 * * *\" to a [syncs.NAME] table")


@app.command("run")
def run(
    once: bool = typer.Option(False, "--once", help="Run what is due now (missed runs included) and exit."),
) -> None:
    """Run the scheduler until Ctrl-C: each sync on its cron schedule, missed runs caught up once.

    The first Ctrl-C lets the sync in progress finish and stops; a second one interrupts
    it (the next run resumes it without double-sending).

    Example: cdp schedule run
    """
    import signal
    import sys

    ws = _ws()

    def on_event(kind: str, info: dict[str, Any]) -> None:
        if kind == "start":
            print(f"{info['fire']:%Y-%m-%d %H:%M} UTC  {info['sync']}: running", file=sys.stderr)
        else:
            msg = info.get("error") or f"adds {info.get('adds')}, removes {info.get('removes')}"
            print(f"  {info['sync']}: {info.get('status')} ({msg})", file=sys.stderr)

    sched = ws.sync.scheduler(on_event=on_event)
    if once:
        results = sched.tick()
        if any(r.get("status") != "ok" for r in results):
            raise typer.Exit(1)
        return

    def stop(signum: int, frame: Any) -> None:
        print("stopping after the sync in progress (Ctrl-C again to interrupt it)", file=sys.stderr)
        sched.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    if not sched.schedules():
        print("no sync has a schedule; add schedule = \"0 6 * * *\" to a [syncs.NAME] table", file=sys.stderr)
        raise typer.Exit(1)
    previous = signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for item in sched.next_runs():
            print(f"{item['sync']}: next run {item['next_run_local']} ({ws.timezone})", file=sys.stderr)
        sched.run_forever()
    finally:
        signal.signal(signal.SIGINT, previous)
    print("scheduler stopped", file=sys.stderr)

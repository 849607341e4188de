"""`cdp export parquet DIR`: the pseudonymous canonical tables as Parquet (cdp/engines/export.py)."""

from __future__ import annotations

from pathlib import Path

import typer

export_app = typer.Typer(
    help="Export the store for a lakehouse or Spark.\n\nExample: cdp export parquet /data/cdp-export",
    no_args_is_help=True,
)


@export_app.command("parquet")
def parquet(
    directory: Path = typer.Argument(..., help="Folder to write (replaced if it holds an earlier export)."),
    json_out: bool = typer.Option(False, "--json", help="Print rows per table as JSON."),
) -> None:
    """Write customers, events (partitioned by month) and the other tables segments read as Parquet.

    Only pseudonymous columns leave the store: no identities, vault, keys or consent evidence.

    Example: cdp export parquet ./export && ls ./export/events
    """
    from cdp.engines import export_parquet
    from cdp.workspace import Workspace

    result = export_parquet(Workspace.find(), directory)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(result.to_dict())
        return
    from rich.table import Table

    from cdp.cli.output import console

    table = Table(title=f"exported to {result.directory} in {result.seconds:.1f} s")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.tables.items():
        table.add_row(name, f"{rows:,}")
    console().print(table)
    console().print(f"events: {result.months} monthly partition(s) under events/event_month=YYYY-MM/")


def register(app: typer.Typer) -> None:
    """Add ``cdp export`` to the root app."""
    app.add_typer(export_app, name="export")

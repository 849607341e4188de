"""`cdp engine`: prepare the engines segments can run on besides DuckDB (cdp/engines/)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Engines: push the store's pseudonymous tables to PostgreSQL.\n\n"
    "Example: CDP_PG_DSN='host=db dbname=cdp' cdp engine push postgres",
    no_args_is_help=True,
)


@app.command("push")
def push(
    engine: str = typer.Argument(..., help="Engine to push to: postgres."),
    full: bool = typer.Option(False, "--full", help="Recreate every table instead of sending what changed."),
    json_out: bool = typer.Option(False, "--json", help="Print rows per table as JSON."),
) -> None:
    """Create or refresh the canonical pseudonymous tables in PostgreSQL, incrementally.

    The DSN comes from the environment variable named by engines.postgres.dsn_env in cdp.toml
    (default CDP_PG_DSN); the tables go to its `schema` (default cdp). Only buckets whose
    rows changed since the last push are rewritten; erased customers disappear there too.

    Example: export CDP_PG_DSN='host=127.0.0.1 dbname=test'; cdp engine push postgres --json
    """
    from cdp.errors import NotFoundError

    if engine != "postgres":
        raise NotFoundError(
            "engine", engine, suggestion="postgres",
            hint="only PostgreSQL keeps its own copy; Spark reads `cdp export parquet` output",
        )
    from cdp.engines import push_postgres
    from cdp.workspace import Workspace

    ws = Workspace.find()
    if json_out:
        result = push_postgres(ws, full=full)
        from cdp.cli.output import emit_json

        emit_json(result.to_dict())
        return
    from rich.table import Table

    from cdp.cli.output import console, err_console

    with err_console().status("pushing to PostgreSQL ...") as status:
        result = push_postgres(ws, full=full, progress=lambda t: status.update(f"pushing {t} ..."))
    table = Table(title=f"pushed to PostgreSQL schema {result.schema} in {result.seconds:.1f} s")
    for col in ("table", "rows", "buckets", "rewritten", "rows sent"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, t in result.tables.items():
        table.add_row(name, f"{t['rows']:,}", f"{t['buckets']:,}", f"{t['buckets_rewritten']:,}", f"{t['rows_sent']:,}")
    console().print(table)

"""The `cdp` command: a thin typer layer over :class:`cdp.Workspace`.

Each command group lives in its own module and only parses options, calls one
Workspace method and prints. Heavy libraries are imported inside the commands so
that `cdp --help` and `cdp segment check` start fast.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from cdp.cli import (
    audit_cmd,
    campaign_cmd,
    consent_cmd,
    engine_cmd,
    export_cmd,
    model_cmd,
    privacy_cmd,
    report_cmd,
    schedule_cmd,
    segment_cmd,
    sync_cmd,
    workspace_cmd,
)
from cdp.errors import CDPError

__all__ = ["app", "main"]

app = typer.Typer(
    name="cdp",
    help="A privacy-first customer data platform with a segment rules language.\n\n"
    "Example: cdp demo && cd cdp-demo && cdp segment preview platinum",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
) -> None:
    _state["debug"] = debug or os.environ.get("CDP_DEBUG") == "1"


workspace_cmd.register(app)
export_cmd.register(app)
report_cmd.register(app)
app.add_typer(segment_cmd.app, name="segment")
app.add_typer(model_cmd.app, name="model")
app.add_typer(consent_cmd.app, name="consent")
app.add_typer(privacy_cmd.app, name="privacy")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(sync_cmd.app, name="sync")
app.add_typer(schedule_cmd.app, name="schedule")
app.add_typer(campaign_cmd.app, name="campaign")
app.add_typer(engine_cmd.app, name="engine")


def main(argv: list[str] | None = None) -> None:
    """Entry point: known errors become one clear paragraph and exit code 1."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or os.environ.get("CDP_DEBUG") == "1"
    try:
        app(args=argv, standalone_mode=False)
    except CDPError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; the store is consistent and a re-run continues where this stopped", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the unexpected
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code if exc.exit_code else 2)
        if isinstance(exc, click.exceptions.Abort):
            print("aborted", file=sys.stderr)
            sys.exit(1)
        if debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc}\n  (re-run with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)

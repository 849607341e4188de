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
from typer.core import TyperGroup

__all__ = ["app", "main"]


def _debug_wanted() -> bool:
    return "--debug" in sys.argv or os.environ.get("CDP_DEBUG") == "1" or _state["debug"]


class _RootGroup(TyperGroup):
    """Turns our errors into one clear paragraph and exit code 1 (traceback only with --debug).

    Done in the root group (not only in ``main``) so typer's CliRunner sees the same behaviour.
    """

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except CDPError as exc:
            if _debug_wanted():
                traceback.print_exc()
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; the store is consistent and a re-run continues where this stopped", err=True)
            raise typer.Exit(130) from None


_state = {"debug": False}

app = typer.Typer(
    name="cdp",
    cls=_RootGroup,
    help="A privacy-first customer data platform with a segment rules language.\n\n"
    "Example: cdp demo && cd cdp-demo && cdp segment preview platinum",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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


def main() -> None:
    """Console-script entry point."""
    app()

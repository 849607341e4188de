"""`cdp report`: one self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cdp.cli.output import console, emit_json


def register(app: typer.Typer) -> None:
    """Add `cdp report` to the root app."""

    @app.command("report")
    def report(
        html: Optional[Path] = typer.Option(None, "--html", help="Output file (default reports/report-DATE-LANG.html)."),
        lang: str = typer.Option("en", "--lang", help="UI language: en or tr."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluation time (date or timestamp, workspace time zone)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Write one self-contained HTML report (works offline): overview, segment sizes over time, RFM grid,
        cluster profiles, transitions, campaign results, consent coverage, last syncs.

        Example: cdp report --html reports/autumn.html --lang tr
        """
        from rich.progress import Progress

        from cdp.workspace import Workspace

        ws = Workspace.find()
        with Progress(transient=True) as bar:
            task = bar.add_task("report", total=8)

            def step(name: str) -> None:
                bar.update(task, advance=1, description=name)

            info = ws.reports.html(html, lang=lang, as_of=as_of, progress=step)
        if as_json:
            emit_json(info)
        else:
            console().print(f"report written: {info['path']} ({info['bytes'] / 1024:.0f} KiB, {lang})")

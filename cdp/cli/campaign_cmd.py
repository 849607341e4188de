"""`cdp campaign`: campaigns measured against the segment's holdout."""

from __future__ import annotations

from typing import Optional

import typer

from cdp.cli.output import console, emit_json

app = typer.Typer(help="Campaigns measured against the segment's control group.", no_args_is_help=True)


def _service():  # noqa: ANN202
    from cdp.campaigns.service import CampaignService
    from cdp.workspace import Workspace

    return CampaignService(Workspace.find())


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Campaign name."),
    segment: str = typer.Option(..., "--segment", help="The targeted segment (its holdout is the control group)."),
    start: str = typer.Option(..., "--start", help="First day, YYYY-MM-DD (workspace time zone)."),
    end: str = typer.Option(..., "--end", help="Last day, YYYY-MM-DD, inclusive."),
    outcome: str = typer.Option("purchase", "--outcome", help="Event type counted as a response."),
    sync: Optional[str] = typer.Option(None, "--sync", help="The sync that delivered it (its purpose and destination)."),
    purpose: Optional[str] = typer.Option(None, "--purpose", help="Purpose, when not given by the sync."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Define a campaign on a segment for a date range.

    Example: cdp campaign create autumn_horeca --segment horeca_at_risk --start 2026-10-01 --end 2026-10-31
    """
    info = _service().create(name, segment, start, end, outcome=outcome, sync=sync, purpose=purpose)
    if as_json:
        emit_json(info)
    else:
        console().print(f"campaign [bold]{name}[/bold] on segment {segment}: {info['start']} → {info['end']}, outcome {outcome}")
        console().print(f"after it ends: cdp campaign report {name}")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List campaigns.

    Example: cdp campaign list
    """
    rows = _service().list()
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("campaign", "segment", "start", "end", "outcome", "sync")
    for r in rows:
        table.add_row(r["name"], r["segment"], str(r["start"]), str(r["end"]), r["outcome"], r["sync"] or "")
    console().print(table)


def _pct(v: object) -> str:
    return "–" if v is None else f"{100 * float(v):.2f}%"  # type: ignore[arg-type]


def _num(v: object) -> str:
    return "–" if v is None else f"{float(v):,.2f}"  # type: ignore[arg-type]


@app.command("report")
def report(
    name: str = typer.Argument(..., help="Campaign name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Treatment vs control: response rate, revenue per member, uplift with 95% intervals, p-values,
    incremental revenue, and the pre-period check that the groups were alike.

    Example: cdp campaign report autumn_horeca --json
    """
    r = _service().report(name)
    if as_json:
        emit_json(r)
        return
    from rich.table import Table

    g = r["groups"]
    c = console()
    c.print(f"[bold]{name}[/bold] · segment {r['segment']} (build {r['build_id']}, {r['build_as_of']}) · "
            f"{r['window']['start']} → {r['window']['end']} · outcome {r['window']['outcome']} · purpose {r['purpose']}")
    c.print(f"treatment {g['treatment_after']} of {g['treatment_before']} released; "
            f"control {g['control_after']} of {g['control_before']} after the same gate rules")
    rate, money = r["response_rate"], r["revenue_per_member"]
    d, md = rate["difference"], money["difference"]
    t = Table("", "treatment", "control", "uplift [95% interval]", "p-value")
    t.add_row("response rate", _pct(rate["rate_t"]["estimate"]), _pct(rate["rate_c"]["estimate"]),
              f"{_pct(d['estimate'])} [{_pct(d['low'])}, {_pct(d['high'])}]", _num(rate["p_value"]))
    t.add_row("revenue per member", _num(money["mean_t"]), _num(money["mean_c"]),
              f"{_num(md['estimate'])} [{_num(md['low'])}, {_num(md['high'])}]", _num(money["p_value"]))
    inc = r["incremental_revenue"]
    if inc:
        t.add_row("incremental revenue", "", "", f"{_num(inc['estimate'])} [{_num(inc['low'])}, {_num(inc['high'])}]", "")
    c.print(t)
    pre = r["pre_period"]
    c.print(f"pre-period {pre['start']} → {pre['end']}: groups {'alike' if pre['groups_alike'] else 'NOT alike'} "
            f"(standardized differences: response {_num(pre['standardized_difference']['response'])}, "
            f"revenue {_num(pre['standardized_difference']['revenue'])})")
    verdict = {"uplift": "significant uplift", "negative": "significant negative effect",
               "no_significant_difference": "no significant difference between treatment and control"}[r["verdict"]]
    c.print(f"verdict: [bold]{verdict}[/bold]")

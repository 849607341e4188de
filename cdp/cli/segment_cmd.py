"""`cdp segment`: check, explain, preview, build, list, history and diff segments.

Each command parses options, calls one ``ws.segments`` method (cdp/segments/service.py)
and prints: rich tables for people, ``--json`` for scripts. Heavy imports stay inside
the commands so that ``cdp segment check`` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Segments: check rule files, explain, preview, build and compare builds.\n\n"
    "Example: cdp segment build platinum gold --as-of 2026-01-31",
    no_args_is_help=True,
)

AS_OF_HELP = "Evaluation time in the workspace time zone: YYYY-MM-DD (00:00 local) or a timestamp; default now."


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


def _fmt_time(value: Any) -> str:
    """A stored timestamp for people: the date alone at midnight, else to the minute."""
    from datetime import datetime

    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _fmt_int(value: Any) -> str:
    return "" if value is None else f"{int(value):,}"


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    from cdp.cli.output import console

    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, justify="right" if col in {"members", "control", "entered", "left", "build",
                                                          "customers", "share", "size", "run"} else "left")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console().print(table)


@app.command("check")
def check(
    files: Annotated[list[Path] | None, typer.Argument(help="Rule files to check (default: segments/*.seg).")] = None,
    json_out: bool = typer.Option(False, "--json", help="Print the errors as JSON."),
) -> None:
    """Parse and check rule files; print every error with file:line:col and a caret.

    Exits 1 when there is any error.

    Example: cdp segment check segments/autumn.seg
    """
    ws = _ws()
    result = ws.segments.check_report(files or None)
    errors = result["errors"]
    if json_out:
        from cdp.cli.output import emit_json

        emit_json({**result, "errors": [_error_dict(e) for e in errors]})
    else:
        import sys

        for err in errors:
            print(str(err), file=sys.stderr)
            print(file=sys.stderr)
        if errors:
            print(f"{len(errors)} error(s) in {result['files_with_errors']} file(s)", file=sys.stderr)
        else:
            print(f"ok: {result['segments']} segment(s), {result['metrics']} metric(s) in {result['files']} file(s)")
    if errors:
        raise typer.Exit(1)


def _error_dict(err: Any) -> dict[str, Any]:
    loc = getattr(err, "location", None)
    return {
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "col": loc.col if loc else None,
        "kind": "syntax" if type(err).__name__ == "RuleSyntaxError" else "check",
        "message": getattr(err, "message", str(err)),
        "name": getattr(err, "name", None),
        "expected": getattr(err, "expected", None),
        "suggestion": getattr(err, "suggestion", None),
        "hint": getattr(err, "hint", None),
        "text": str(err),
    }


@app.command("explain")
def explain(
    name: str = typer.Argument(..., help="Segment name."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    dialect: str = typer.Option("duckdb", "--dialect", help="SQL dialect: duckdb, postgres or spark."),
    json_out: bool = typer.Option(False, "--json", help="Print {sql, funnel} as JSON."),
) -> None:
    """Show the compiled SQL and a funnel: how many customers pass each condition, in order.

    Example: cdp segment explain horeca_winback --as-of 2026-01-31 --dialect postgres
    """
    result = _ws().segments.explain(name, as_of=as_of, dialect=dialect, pretty=not json_out)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(result)
        return
    print(result["sql"])
    print()
    rows = [[step["step"], step["condition"], _fmt_int(step["customers"])] for step in result["funnel"]]
    _table(f"funnel of {name} at {_fmt_time(result['as_of'])}", ["#", "condition", "customers"], rows)


@app.command("preview")
def preview(
    name: str = typer.Argument(..., help="Segment name."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    sample: int = typer.Option(10, "--sample", min=0, max=1000, help="How many pseudonymous ids to show."),
    json_out: bool = typer.Option(False, "--json", help="Print the preview as JSON."),
) -> None:
    """Size, control size and share of all customers, with a sample of ids and their metric values.

    Nothing is stored.

    Example: cdp segment preview platinum --as-of 2026-01-31
    """
    result = _ws().segments.preview(name, as_of=as_of, sample=sample)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(result)
        return
    print(
        f"{name} at {_fmt_time(result['as_of'])}: {result['size']:,} members ({result['share']:.2%} of "
        f"{result['customers']:,} customers), {result['control']:,} in the control group"
    )
    if result["sample"]:
        cols = list(result["sample"][0].keys())
        _table("sample", cols, [[_fmt_value(r[c]) for c in cols] for r in result["sample"]])


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


@app.command("build")
def build(
    names: Annotated[list[str] | None, typer.Argument(help="Segments to build (default: all).")] = None,
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    engine: str = typer.Option("duckdb", "--engine", help="Where to run: duckdb (default), postgres or spark (docs/scale.md)."),
    json_out: bool = typer.Option(False, "--json", help='Print {"segment": {"members": N, "control": M}, ...}.'),
) -> None:
    """Build all (or the named) segments in dependency order and store their memberships.

    Example: cdp segment build --as-of 2026-01-31 --json
    """
    ws = _ws()
    if json_out:
        result = ws.segments.build(names or None, as_of=as_of, engine=engine)
        from cdp.cli.output import emit_json

        emit_json(result)
        return
    from cdp.cli.output import err_console

    with err_console().status("building segments ...") as status:

        def progress(segment: str, index: int, total: int) -> None:
            status.update(f"building {segment} ({index + 1}/{total}) ...")

        result = ws.segments.build(names or None, as_of=as_of, engine=engine, on_segment=progress)
    rows = [[n, _fmt_int(r["members"]), _fmt_int(r["control"]), r["build_id"]] for n, r in result.items()]
    _table(None, ["segment", "members", "control", "build"], rows)


@app.command("list")
def list_(
    json_out: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """The latest build of every segment with its size (and segments defined but never built).

    Example: cdp segment list
    """
    items = _ws().segments.list()
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(items)
        return
    rows = [
        [i["segment"], i.get("label"), _fmt_int(i.get("members")), _fmt_int(i.get("control")),
         _fmt_time(i.get("as_of")) or "never built", i.get("build_id")]
        for i in items
    ]
    _table(None, ["segment", "label", "members", "control", "as_of", "build"], rows)


@app.command("history")
def history(
    name: str = typer.Argument(..., help="Segment name."),
    json_out: bool = typer.Option(False, "--json", help="Print the history as JSON."),
) -> None:
    """Every stored build of a segment: sizes over time and how many entered and left.

    Example: cdp segment history platinum
    """
    items = _ws().segments.history(name)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(items)
        return
    rows = [
        [i["build_id"], _fmt_time(i["as_of"]), _fmt_int(i["members"]), _fmt_int(i["control"]),
         _fmt_int(i["entered"]), _fmt_int(i["left"]), _fmt_time(i["built_at"])]
        for i in items
    ]
    _table(f"history of {name}", ["build", "as_of", "members", "control", "entered", "left", "built_at"], rows)


@app.command("diff")
def diff(
    name: str = typer.Argument(..., help="Segment name."),
    build_a: int = typer.Argument(None, help="Older build id (default: the second-latest build)."),
    build_b: int = typer.Argument(None, help="Newer build id (default: the latest build)."),
    json_out: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
) -> None:
    """Who entered and who left a segment between two builds (counts and sample ids).

    Example: cdp segment diff platinum 12 19
    """
    result = _ws().segments.diff(name, build_a, build_b)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(result)
        return
    a, b = result["build_a"], result["build_b"]
    print(
        f"{name}: build {a['build_id']} ({_fmt_time(a['as_of'])}, {a['members']:,} members) -> "
        f"build {b['build_id']} ({_fmt_time(b['as_of'])}, {b['members']:,} members)"
    )
    print(f"  entered {result['entered']:,}  left {result['left']:,}  stayed {result['stayed']:,}")
    if result["entered_sample"]:
        print("  entered e.g.: " + ", ".join(result["entered_sample"]))
    if result["left_sample"]:
        print("  left e.g.:    " + ", ".join(result["left_sample"]))


@app.command("profile")
def profile(
    name: str = typer.Argument(..., help="Segment name."),
    as_of: str = typer.Option(None, "--as-of", help="Use the latest build at or before this time (default: latest)."),
    json_out: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
) -> None:
    """Who is in a built segment: spend, frequency, recency, top categories and traits vs everyone.

    Example: cdp segment profile gold
    """
    result = _ws().reports.profile(name, as_of=as_of)
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(result)
        return
    print(
        f"{name} (build {result['build_id']}, {_fmt_time(result['as_of'])}): {result['members']:,} members "
        f"({result['share']:.2%} of {result['customers']:,}), {result['control']:,} in the control group"
    )
    seg, every = result["segment_values"], result["all_values"]
    rows = [[key, _fmt_value(seg.get(key)), _fmt_value(every.get(key))] for key in seg if key != "customers"]
    _table(None, ["value", "segment", "all customers"], rows)
    if result.get("top_categories"):
        _table("top categories (share of 12-month spend)", ["category", "segment", "all customers"], [
            [c["category"], f"{c['segment_share']:.1%}", f"{c['all_share']:.1%}"] for c in result["top_categories"]
        ])
    for trait, values in (result.get("traits") or {}).items():
        _table(trait, ["value", "segment", "all customers"],
               [[v["value"], _fmt_int(v["segment"]), _fmt_int(v["all"])] for v in values])


@app.command("transitions")
def transitions(
    names: Annotated[list[str] | None, typer.Argument(help="Segments (default: the latest builds' disjoint set).")] = None,
    from_point: str = typer.Option(None, "--from", help="A build id or date (default: the second-latest as_of)."),
    to_point: str = typer.Option(None, "--to", help="A build id or date (default: the latest as_of)."),
    json_out: bool = typer.Option(False, "--json", help="Print the transition matrix as JSON."),
) -> None:
    """How many customers moved between segments from one build date to another.

    Example: cdp segment transitions platinum gold silver --from 2025-12-31 --to 2026-01-31
    """
    result = _ws().reports.transitions(names or None, from_point, to_point)
    data = result.to_dict() if hasattr(result, "to_dict") else result
    if json_out:
        from cdp.cli.output import emit_json

        emit_json(data)
        return
    rows = [[m["from"], m["to"], _fmt_int(m["customers"])] for m in data["matrix"]]
    _table(f"transitions {data['from_as_of']} -> {data['to_as_of']}", ["from", "to", "customers"], rows)

"""`cdp model`: train, list, show and compare the machine-learned models of the rule files.

Each command parses options, calls one ``ws.models`` method (cdp/models/service.py) and
prints: rich tables for people, ``--json`` for scripts. scikit-learn is imported only by
the service, inside the commands.
"""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(
    help="Models: train clustering, outlier, churn and CLV models defined in rule files, and inspect them.\n\n"
    "Example: cdp model train value_clusters --as-of 2026-01-31",
    no_args_is_help=True,
)

AS_OF_HELP = "Training time in the workspace time zone: YYYY-MM-DD (00:00 local) or a timestamp; default now."


def _ws() -> Any:
    from cdp.workspace import Workspace

    return Workspace.find()


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    from cdp.cli.output import console

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[_num(v) for v in row])
    console().print(table)


def _warn(lines: list[str]) -> None:
    from cdp.cli.output import err_console

    for line in lines:
        err_console().print(f"[yellow]warning:[/yellow] {line}", highlight=False)


def _key_metrics(metrics: dict[str, Any]) -> str:
    keys = ("k", "silhouette", "inertia", "bic", "auc", "brier", "top_decile_lift", "outlier_share",
            "noise_share", "mean_value", "customers")
    return ", ".join(f"{k} {_num(metrics[k])}" for k in keys if metrics.get(k) is not None)


@app.command("train")
def train(
    names: list[str] = typer.Argument(None, help="Models to train (default: every model in segments/*.seg)."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Train models defined in the rule files; each run stores a new version.

    Customers with a profiling objection are left out. Prints the metrics and any warning
    (tiny clusters, unused names, drift against the previous version).

    Example: cdp model train value_clusters churn_90d --as-of 2026-01-31
    """
    from rich.progress import Progress

    from cdp.cli.output import emit_json, err_console

    ws = _ws()
    with Progress(console=err_console(), transient=True, disable=json_out) as bar:
        task = bar.add_task("training", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"training {name}" if name else "done")

        results = ws.models.train(names or None, as_of=as_of, progress=progress)
    if json_out:
        emit_json(results)
        return
    if not results:
        typer.echo("no models defined; add `model NAME = kmeans(...)` to segments/*.seg (docs/models.md)")
    for r in results:
        m = r["metrics"]
        typer.echo(f"{r['name']} v{r['version']} ({r['algorithm']}): {_key_metrics(m)}")
        drift = m.get("drift") or {}
        if drift.get("psi"):
            shifted = {k: v for k, v in drift["psi"].items() if v >= 0.1}
            typer.echo("  drift (PSI) vs v{}: {}".format(
                drift["previous_version"], ", ".join(f"{k} {v:.3f}" for k, v in drift["psi"].items())))
            if shifted:
                _warn([f"{r['name']}: features shifted since v{drift['previous_version']}: {', '.join(shifted)}"])
        if drift.get("migration"):
            typer.echo(f"  customers keeping their cluster: {drift['migration']['unchanged_share']:.1%}"
                       " (`cdp model show` has the migration matrix)")
        _warn(m.get("warnings") or [])
        if m.get("unused_names"):
            _warn([f"{r['name']}: names not used: {', '.join(m['unused_names'])}"])


@app.command("list")
def list_models(json_out: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """Trained models: name, algorithm, version, trained at, data as of, key metric.

    Example: cdp model list
    """
    from cdp.cli.output import emit_json

    rows = _ws().models.list()
    if json_out:
        emit_json(rows)
        return
    if not rows:
        typer.echo("no trained models; define them in segments/*.seg and run `cdp model train`")
        return
    _table(None, ["model", "algorithm", "version", "trained at (UTC)", "data as of", "metric", "value", "stale"],
           [[r["name"], r["algorithm"], r["version"], r["trained_at"].strftime("%Y-%m-%d %H:%M"),
             r["as_of"].strftime("%Y-%m-%d %H:%M") if r["as_of"] else "", r["key_metric"], r["value"],
             "yes" if r["stale"] else ""] for r in rows])


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Option(None, "--version", help="A stored version (default: the latest)."),
    json_out: bool = typer.Option(False, "--json", help="Print parameters and metrics as JSON."),
) -> None:
    """Parameters, metrics, the k-selection table and the per-cluster profile of a model.

    The profile shows each cluster's size and the mean of every feature against everyone's,
    with a suggested name; clusters under 1% of customers are warned about.

    Example: cdp model show value_clusters --json
    """
    from cdp.cli.output import emit_json

    data = _ws().models.show(name, version)
    if json_out:
        emit_json(data)
        return
    m = data["metrics"]
    typer.echo(f"{data['name']} v{data['version']} ({data['algorithm']}), trained "
               f"{data['trained_at']:%Y-%m-%d %H:%M} UTC on data as of {data['as_of'] or '-'}; "
               f"versions {', '.join(map(str, data['versions']))}")
    if data["features"]:
        pre = data["params"].get("preprocess", {})
        typer.echo(f"features: {', '.join(data['features'])}; transform {pre.get('transform', '-')}, "
                   f"scale {pre.get('scale', '-')}; nulls filled with the training median")
    typer.echo(f"metrics: {_key_metrics(m)}")
    if len(m.get("k_table") or []) > 1:
        cols = [c for c in ("k", "silhouette", "inertia", "bic") if any(c in r for r in m["k_table"])]
        _table(f"k selection ({m.get('k_criterion') or 'fixed'}; chosen k = {m.get('k')})", cols,
               [[r.get(c) for c in cols] for r in m["k_table"]])
    if m.get("profile"):
        feats = data["features"]
        rows = []
        for p in m["profile"]:
            rows.append([p["label"], p["size"], f"{p['share']:.1%}"]
                        + [f"{_num(p['means'][f], 1)} (×{p['index'][f]:.2f})" if p["index"][f] is not None
                           else _num(p["means"][f], 1) for f in feats] + [p["suggested_name"]])
        _table("clusters (mean, × overall mean)", ["cluster", "size", "share", *feats, "suggested name"], rows)
    if m.get("validation"):
        v = m["validation"]
        typer.echo(f"validation ({v['customers']:,} customers, churn rate {v['churn_rate']:.1%}): AUC "
                   f"{_num(v['auc'])}, Brier {_num(v['brier'])}, top-decile lift {_num(v['top_decile_lift'], 2)}")
    if data["algorithm"] == "churn" and data["params"].get("coefficients"):
        _table("coefficients (on preprocessed features)", ["feature", "coefficient"],
               [[f, c] for f, c in zip(data["features"], data["params"]["coefficients"])]
               + [["(intercept)", data["params"]["intercept"]]])
    if data["algorithm"] == "clv":
        p = data["params"]
        typer.echo("BG/NBD " + ", ".join(f"{k} {v:.4g}" for k, v in p["bgnbd"].items())
                   + "; Gamma-Gamma " + ", ".join(f"{k} {v:.4g}" for k, v in p["gamma_gamma"].items())
                   + f"; horizon {p['horizon_months']} months")
    drift = m.get("drift") or {}
    if drift.get("psi"):
        _table(f"drift vs v{drift['previous_version']} (PSI)", ["feature", "PSI", "level"],
               [[k, v, drift["psi_level"][k]] for k, v in drift["psi"].items()])
    mig = drift.get("migration")
    if mig:
        _table("migration: rows = previous clusters, columns = new", ["", *mig["new"]],
               [[old, *row] for old, row in zip(mig["old"], mig["counts"])])
    _warn(data["warnings"])


@app.command("compare")
def compare(
    name: str = typer.Argument(..., help="A clustering model defined in the rule files."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """k-means vs GMM vs hierarchical on the model's features and one sample, in one table.

    Nothing is stored; the table shows the k each chose, silhouette on the same sample,
    the smallest cluster's share and the agreement with k-means (adjusted Rand index).

    Example: cdp model compare value_clusters
    """
    from cdp.cli.output import emit_json

    result = _ws().models.compare(name, as_of=as_of)
    if json_out:
        emit_json(result)
        return
    _table(f"{name}: {result['sample']:,} of {result['customers']:,} customers",
           ["algorithm", "k", "silhouette", "BIC", "smallest cluster", "agreement with k-means (ARI)", "seconds"],
           [[r["algorithm"], r["k"], r["silhouette"], r["bic"],
             f"{r['smallest_share']:.1%}" if r["smallest_share"] is not None else "", r["ari_vs_kmeans"], r["seconds"]]
            for r in result["rows"]])
    if result["best_by_silhouette"]:
        typer.echo(f"best separated (silhouette): {result['best_by_silhouette']}")

"""`cdp demo`: a workspace with the synthetic wholesaler, ingested, in one call.

``run_demo`` runs :data:`STEPS` in order; each step reads and extends one :class:`DemoRun`.
Adding a step (build segments, train models, dry-run syncs) is one line in :data:`STEPS`.

Re-running on the same folder is fine: a demo workspace (recognized by the first line of its
cdp.toml or by ``.cdp/demo.json``) is re-used, its data is generated only once for the same
size, seed and end date, segment files already there are kept (they may have been edited),
and ingestion is idempotent. ``fresh=True`` deletes a demo workspace and starts over.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from cdp.errors import ConfigError

__all__ = ["MARKER_FILE", "STEPS", "DemoRun", "run_demo"]

MARKER_FILE = "demo.json"          # in the workspace's .cdp/
Progress = Callable[[str, str, int, "int | None"], None]


@dataclass
class DemoRun:
    """The state shared by the steps of one ``run_demo`` call."""

    target: Path
    customers: int
    seed: int
    end_date: date | None
    fresh: bool
    progress: Progress | None
    workspace: Any = None
    reused: bool = False
    generated: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def tell(self, phase: str, done: int = 0, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress("demo", phase, done, total)

    @property
    def marker_path(self) -> Path:
        return self.target / ".cdp" / MARKER_FILE


# -- steps ---------------------------------------------------------------------------------------

def _is_demo_workspace(target: Path) -> bool:
    from cdp.demo.config_template import DEMO_MARKER

    if (target / ".cdp" / MARKER_FILE).exists():
        return True
    config = target / "cdp.toml"
    if config.exists():
        with config.open(encoding="utf-8") as fh:
            return fh.readline().startswith(DEMO_MARKER)
    return False


def prepare_workspace(run: DemoRun) -> None:
    """Create the workspace (cdp.toml of the demo, .cdp/ with keys and store), or re-use it."""
    from cdp.demo.config_template import demo_extra, render_config
    from cdp.workspace import Workspace

    target = run.target
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file, not a folder", hint="choose another folder for the demo")
    if target.exists() and any(target.iterdir()):
        if not _is_demo_workspace(target):
            raise ConfigError(
                f"{target} exists and is not a demo workspace",
                hint="choose another folder (`cdp demo DIR`) or delete it; `cdp demo` never touches other data",
            )
        if run.fresh:
            run.tell("deleting the old demo workspace")
            for child in target.iterdir():     # the folder itself stays (it may be the cwd)
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            run.reused = True
    target.mkdir(parents=True, exist_ok=True)
    config = target / "cdp.toml"
    if not config.exists():
        config.write_text(render_config(demo_extra()), encoding="utf-8")
    run.tell("creating the workspace")
    run.workspace = Workspace.init(target, name="demo")


def generate_data(run: DemoRun) -> None:
    """Write data/*.csv unless this demo already generated them with the same size and seed."""
    from cdp.demo.generate import DATA_FILES, default_end_date, generate

    previous = _read_marker(run)
    if previous is not None:
        asked: dict[str, Any] = {"customers": run.customers, "seed": run.seed}
        if run.end_date is not None:
            asked["end_date"] = run.end_date.isoformat()
        different = {k: v for k, v in asked.items() if previous.get(k) != v}
        if different:
            had = ", ".join(f"{k} {previous.get(k)}" for k in different)
            raise ConfigError(
                f"{run.target} holds a demo generated with {had}",
                hint="re-run with the same options, or start over with `cdp demo --fresh` (or another folder)",
            )
        data = run.target / "data"
        if all((data / name).exists() for name in DATA_FILES):
            run.generated = dict(previous.get("generated", {}))
            run.generated["reused"] = True
            return
    end = run.end_date or (date.fromisoformat(previous["end_date"]) if previous else default_end_date())
    run.tell(f"generating {run.customers:,} customers")
    run.generated = generate(run.target, customers=run.customers, seed=run.seed, end_date=end)
    run.marker_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = run.marker_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({
        "customers": run.customers, "seed": run.seed, "end_date": run.generated["end_date"],
        "generated": run.generated,
    }, indent=2), encoding="utf-8")
    os.replace(tmp, run.marker_path)


def copy_segments(run: DemoRun) -> None:
    """Copy the example rule files (cdp/demo/segments/*.seg) into segments/, keeping edited ones."""
    target = run.workspace.segments_dir
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    folder = resources.files("cdp.demo") / "segments"
    if folder.is_dir():
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".seg") and not (target / entry.name).exists():
                (target / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
                copied += 1
    run.summary["segment_files_copied"] = copied


def ingest(run: DemoRun) -> None:
    """Ingest every source, as `cdp ingest` does, and summarize what the store now holds."""
    run.tell("ingesting")
    report = run.workspace.ingest(progress=run.progress)
    status = run.workspace.status()
    dropped = sorted(
        f"{s.source}.{column}" for s in getattr(report, "sources", []) for column in s.columns_dropped
    )
    if not dropped:  # a re-run reads no file again: take the columns from the last run of each source
        for name, src in status.get("sources", {}).items():
            cols = (src.get("last_run") or {}).get("columns_dropped") or []
            if isinstance(cols, str):
                cols = json.loads(cols)
            dropped += [f"{name}.{c}" for c in cols]
    run.summary.update({
        "customers": int(status["customers"]),
        "events": int(status["events"]),
        "identities": int(status["identities"]),
        "identities_merged": _records_merged(run, int(status["customers"])),
        "merges_recorded": int(status.get("merges", 0)),
        "consents": int(status["consent_events"]),
        "columns_dropped": sorted(set(dropped)),
        "rejects": int(status["rejects"]),
    })


def _records_merged(run: DemoRun, customers: int) -> int:
    """Source records (customer_ref or card_no) that joined an already-known customer."""
    kinds = sorted({
        src.key_identifier_kind for src in run.workspace.config.sources.values() if src.key_identifier_kind
    })
    if not kinds:
        return 0
    with run.workspace.store(read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM identities WHERE kind IN (SELECT unnest(?::VARCHAR[]))", [kinds]
        ).fetchone()
    return max(0, int(row[0]) - customers) if row else 0


#: the steps of `cdp demo`, in order: (name, function). A step reads ``run.workspace`` and adds
#: its figures to ``run.summary``; e.g. ``("build segments", build_segments)`` with
#: ``def build_segments(run): run.summary["segments"] = run.workspace.segments.build(...)``.
def train_models(run: DemoRun) -> None:
    """Train the demo's value clusters and churn model (segments/models.seg).

    On a tiny demo a model can have nothing to learn (every customer churned, say): then
    models.seg is set aside as models.seg.skipped, with the reason in the summary, so the
    other segments still build (a segment over an untrained model is an error by design).
    """
    from cdp.errors import ModelError

    run.tell("training models")
    ws = run.workspace
    trained, skipped = [], {}
    for name in sorted(ws.models.definitions()):
        try:
            trained += ws.models.train([name])
        except ModelError as exc:
            skipped[name] = exc.detail
    if skipped:
        rules = ws.segments_dir / "models.seg"
        if rules.exists():
            rules.replace(rules.with_name("models.seg.skipped"))
        run.summary["models_skipped"] = [f"{n}: {why} (segments/models.seg set aside)" for n, why in skipped.items()]
    keys = ("k", "silhouette", "auc", "brier", "top_decile_lift")
    run.summary["models"] = {
        m["name"]: {"algorithm": m["algorithm"], "version": m["version"],
                    **{k: m["metrics"][k] for k in keys if (m.get("metrics") or {}).get(k) is not None}}
        for m in trained
    }


def build_segments(run: DemoRun) -> None:
    """Build every segment of segments/*.seg at the end of the generated data."""
    run.tell("building segments")
    built = run.workspace.segments.build()
    run.summary["segments"] = {name: {"members": b["members"], "control": b["control"]} for name, b in built.items()}


def dry_run_syncs(run: DemoRun) -> None:
    """A dry run of the demo syncs (a file and Meta): what would be sent, who was excluded, why."""
    from cdp.sync.demo import dry_run_demo

    run.tell("dry-running syncs")
    results = dry_run_demo(run.workspace)
    run.summary["syncs"] = {
        r.get("sync", "?"): {
            k: r.get(k) for k in ("status", "destination", "segment", "adds", "removes", "released", "exclusions", "error")
            if r.get(k) not in (None, {}, [])
        }
        for r in results
    }


STEPS: list[tuple[str, Callable[[DemoRun], None]]] = [
    ("workspace", prepare_workspace),
    ("generate", generate_data),
    ("segments", copy_segments),
    ("ingest", ingest),
    ("models", train_models),
    ("build", build_segments),
    ("syncs", dry_run_syncs),
]


def _read_marker(run: DemoRun) -> dict[str, Any] | None:
    try:
        return dict(json.loads(run.marker_path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _next_steps(target: Path) -> list[str]:
    try:
        shown = os.path.relpath(target)
    except ValueError:
        shown = str(target)
    if shown.startswith(".."):
        shown = str(target)
    return [
        f"cd {shown}",
        "cdp status",
        "cdp segment check",
        "cdp segment preview platinum",
        "cdp segment build",
        "cdp model train",
        "cdp consent import data/iys_export.json --format iys",
        "cdp sync run --dry-run",
        "cdp report --html reports/demo.html",
        "(a tour of every step: docs/quickstart.md)",
    ]


def run_demo(
    target: Path | str = Path("cdp-demo"),
    customers: int = 5000,
    seed: int = 42,
    progress: Progress | None = None,
    *,
    end_date: date | str | None = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """Create (or re-use) the demo workspace at ``target``, generate its data, ingest it.

    ``progress(source, phase, done, total)`` is called as the work goes (the same callback
    `cdp ingest` uses). Returns the summary: workspace, customers, events, identities,
    identities_merged, consents, columns_dropped, rejects, planted counts of the generator,
    seconds per step, seconds in total and next_steps (commands to try).
    """
    if isinstance(end_date, str):
        try:
            end_date = date.fromisoformat(end_date)
        except ValueError as exc:
            raise ConfigError("end date must be YYYY-MM-DD", key="end_date") from exc
    run = DemoRun(
        target=Path(target).resolve(), customers=int(customers), seed=int(seed), end_date=end_date,
        fresh=fresh, progress=progress,
    )
    started = time.perf_counter()
    for name, step in STEPS:
        t0 = time.perf_counter()
        step(run)
        run.timings[name] = round(time.perf_counter() - t0, 2)
    g = run.generated
    summary: dict[str, Any] = {"workspace": str(run.target), "reused": run.reused}
    summary.update(run.summary)
    summary["generated"] = {
        "customers_csv_rows": g.get("customers"),
        "loyalty_rows": g.get("loyalty_members"),
        "event_rows": (g.get("events") or {}).get("total"),
        "consent_rows": (g.get("consents") or {}).get("total"),
        "iys_records": g.get("iys_records"),
        "expected_customers": g.get("expected_customers"),
        "end_date": g.get("end_date"),
        "bad_rows_planted": sum(
            n for per_file in (g.get("bad_rows") or {}).values() for n in per_file.values()
        ),
        "duplicates_planted": sum((g.get("duplicates") or {}).values()),
    }
    summary["step_seconds"] = dict(run.timings)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["next_steps"] = _next_steps(run.target)
    return summary

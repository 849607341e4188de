"""Ingestion benchmark: generate demo data at N customers, ingest it, report rows/s and peak RSS.

    python benchmarks/ingest.py --customers 100000 [--keep DIR] [--seed 42]

Uses the demo generator (cdp.demo.generate, about 50 events per customer) and the demo
cdp.toml, then runs the same ``Workspace.ingest`` a user runs. Peak RSS is the process's
maximum resident set (DuckDB runs in-process). Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/privacy.py would shadow the privacy package when this file runs as a script
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def _cpu() -> float:
    """CPU seconds of this process, every thread (DuckDB's included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _customers(ws) -> int:
    with ws.store() as con:
        return int(con.execute("SELECT count(*) FROM customers").fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", type=Path, default=None, help="workspace folder to keep (default: a temp folder)")
    ap.add_argument("--reingest", action="store_true", help="also time a second, no-op ingest")
    ap.add_argument("--data", type=Path, default=None,
                    help="ingest the data/ of an earlier --keep run instead of generating (ingest-only peak RSS)")
    args = ap.parse_args(argv)

    from cdp.demo import generate
    from cdp.demo.config_template import render_config
    from cdp.workspace import Workspace

    root = args.keep or Path(tempfile.mkdtemp(prefix="cdp-bench-"))
    try:
        t0 = time.perf_counter()
        ws = Workspace.init(root)
        ws.config_path.write_text(render_config(), encoding="utf-8")
        if args.data is not None:
            shutil.copytree(args.data / "data", root / "data", dirs_exist_ok=True)
            gen: dict = {}
        else:
            gen = generate(root, args.customers, args.seed)
        t_gen = time.perf_counter() - t0
        ws = Workspace(root)
        t1 = time.perf_counter()
        c1 = _cpu()
        report = ws.ingest()
        t_ing = time.perf_counter() - t1
        cpu_ing = _cpu() - c1
        rows = report.total("rows_read")
        out = {
            "customers": args.customers,
            "rows_read": rows,
            "generate_seconds": round(t_gen, 1),
            "ingest_seconds": round(t_ing, 1),
            "ingest_cpu_seconds": round(cpu_ing, 1),
            "rows_per_second": round(rows / t_ing) if t_ing else None,
            "rows_per_cpu_second": round(rows / cpu_ing) if cpu_ing else None,
            "per_source_seconds": {s.source: round(s.seconds, 1) for s in report.sources},
            "phases": {s.source: s.phases for s in report.sources},
            "peak_rss_mb_after_phase": {s.source: s.peak_rss_mb for s in report.sources},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "store_mb": round(ws.store_path.stat().st_size / 1e6),
            "customers_in_store": _customers(ws),
            "expected_customers": gen.get("expected_customers"),
        }
        if args.reingest:
            t2 = time.perf_counter()
            ws.ingest()
            out["reingest_seconds"] = round(time.perf_counter() - t2, 1)
        print(json.dumps(out, indent=2))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

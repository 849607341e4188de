"""Benchmarks of the privacy layer (issue 6, "Performance").

    python benchmarks/privacy.py                      # reduced scale (fast)
    python benchmarks/privacy.py --customers 1000000 --events 50000000 --consents 1000000 --members 500000

Measures: import of N consent rows (ledger.append), `consent verify` of the ledger, the gate
over a build of M members, and the erasure of one person (without and with the file rewrite).
The store is synthetic, generated with DuckDB in a temporary folder; nothing is kept.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

# this file is named privacy.py: keep its folder off sys.path so `privacy` is the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def _timed(label: str, fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"{label:<52} {dt:8.2f} s wall {cpu:8.2f} s cpu")
    return out, dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--consents", type=int, default=200_000)
    ap.add_argument("--members", type=int, default=100_000)
    args = ap.parse_args()
    os.environ.setdefault("CDP_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())

    from cdp.workspace import Workspace
    from privacy.gate import release
    from privacy.keys import KeyStore
    from privacy.ledger import ConsentInput, append, verify
    from privacy.policy import DestinationTerms, Policy
    from privacy.vault import Vault

    root = Path(tempfile.mkdtemp(prefix="cdp-bench-"))
    try:
        (root / "cdp.toml").write_text('[workspace]\nname = "bench"\n', encoding="utf-8")
        ws = Workspace(root)
        n, m = args.customers, args.events
        with ws.store() as con:
            _timed(f"generate {n:,} customers, {m:,} events", lambda: (
                con.execute("INSERT INTO customers SELECT 'c_' || lpad(i::VARCHAR, 20, '0'), "
                            "TIMESTAMP '2025-01-01', TIMESTAMP '2025-01-01' FROM range(?) t(i)", [n]),
                con.execute("INSERT INTO identities SELECT md5('e' || i) || md5('x' || i), 'email', "
                            "'c_' || lpad(i::VARCHAR, 20, '0'), 'bench', TIMESTAMP '2025-01-01' FROM range(?) t(i)",
                            [n]),
                con.execute("INSERT INTO events SELECT 'e' || i, 'c_' || lpad((i % ?)::VARCHAR, 20, '0'), 'purchase', "
                            "TIMESTAMP '2025-01-01' + INTERVAL (i % 500) DAY, (i % 1000)::DECIMAL(18,2), 'bench', NULL "
                            "FROM range(?) t(i)", [n, m]),
            ))
        ks = KeyStore.open(ws.state_dir)
        key = ks.signing_key()
        t0 = datetime(2026, 1, 1)
        k = args.consents
        events = [ConsentInput("email_marketing", "email", "granted", t0 + timedelta(seconds=i),
                               customer_id=f"c_{i % n:020d}", source="HS_WEB", recipient_type="BIREYSEL")
                  for i in range(k)]
        with ws.store() as con:
            res, _ = _timed(f"consent import: append {k:,} rows", lambda: append(con, events, signing_key=key))
            assert res.appended == k
            again, _ = _timed(f"consent import again (idempotent, {k:,} skipped)",
                              lambda: append(con, events, signing_key=key))
            assert again.appended == 0
            vr, _ = _timed(f"consent verify of {k:,} entries", lambda: verify(con, ks.public_keys()))
            assert vr.ok, vr
            members = min(args.members, n)
            con.execute("INSERT INTO segment_builds (build_id, segment, as_of, built_at, purposes, members, control) "
                        "VALUES (1, 'bench', ?, ?, ['email_marketing'], ?, 0)", [t0, t0, members])
            con.execute("INSERT INTO segment_members SELECT 1, 'bench', 'c_' || lpad(i::VARCHAR, 20, '0'), i % 10 = 0 "
                        "FROM range(?) t(i)", [members])
            aud, _ = _timed(f"gate over a {members:,}-member build",
                            lambda: release(con, 1, DestinationTerms("hook", "webhook", country="TR"),
                                            "email_marketing", t0 + timedelta(days=30), Policy()))
            print(f"{'':<48} released {len(aud):,}, exclusions {aud.exclusions}")
            Vault(con, ks).put_many([("c_" + "0" * 19 + "7", "email", "bench@example.com")])
        ks.close()
        target = "c_" + "0" * 19 + "7"
        _timed("erasure of one person (steps 1-5, no rewrite)",
               lambda: ws.privacy.forget(customer=target, compact=False))
        size = ws.store_path.stat().st_size
        from cdp.compliance.requests import compact_files

        _timed(f"rewrite of the store files ({size / 1e6:,.0f} MB)", lambda: compact_files(ws.privacy))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

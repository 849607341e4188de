"""Benchmark: syncing a large audience to the Meta fake (issue 7, "Performance").

    /work/venv/bin/python benchmarks/sync.py --members 1000000 --upload 100000

Measures, on a store built directly with SQL (customers, consents, a segment build and a
sync state of ``--members`` people):

* the privacy gate's release and the diff of the full audience against the state
  (target: diff < 5 s for 1M);
* an incremental run end to end after a 1% change (target < 10 s): half of the 1% leave,
  half arrive (their contact points in the vault), through ``ws.sync.run``;
* a first upload of ``--upload`` members (vault, hashing, 10,000-row batches) to the Meta
  fake running in its own process: requests/s, rows/s, and our CPU time versus wall time
  (upload limited by the fake when our CPU is well below wall time).

The fake runs in a child process so its CPU is not counted as ours.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAKE = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakes import MetaFake
f = MetaFake(audience_id="2385").start()
print(f.url, flush=True)
while True:
    time.sleep(3600)
"""


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def setup(root: Path, url: str, members: int) -> None:
    transfer = 'transfer = { basis = "standard_contract", signed_at = 2025-03-10, notified_at = 2025-03-14 }'
    (root / "cdp.toml").write_text(
        f"""
[workspace]
timezone = "Europe/Istanbul"
[destinations.meta]
kind = "meta"
audience_id = "2385"
token_env = "BENCH_META_TOKEN"
country = "US"
{transfer}
base_url = "{url}"
timeout = 120
[syncs.big]
segment = "vip"
destination = "meta"
purpose = "ads_targeting"
[syncs.upload]
segment = "upload"
destination = "meta"
purpose = "ads_targeting"
""",
        encoding="utf-8",
    )
    from cdp.workspace import Workspace

    ws = Workspace(root)
    t = time.perf_counter()
    with ws.store() as con:
        n = members
        con.execute("INSERT INTO customers SELECT 'c' || lpad(i::VARCHAR, 8, '0'), TIMESTAMP '2026-01-01', "
                    "TIMESTAMP '2026-01-01' FROM range(?) t(i)", [n + n // 100])
        con.execute(
            "INSERT INTO consent_events (seq, customer_id, purpose, channel, status, basis, effective_at, recorded_at, "
            "payload_digest, prev_hash, hash) SELECT i + 1, 'c' || lpad(i::VARCHAR, 8, '0'), 'ads_targeting', 'ads', "
            "'granted', 'consent', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01', 'x', 'x', 'x' FROM range(?) t(i)",
            [n + n // 100],
        )
        for bid, seg, size in ((1, "vip", n), (2, "upload", 0)):
            con.execute("INSERT INTO segment_builds (build_id, segment, as_of, built_at, purposes, members, control) "
                        "VALUES (?, ?, TIMESTAMP '2026-06-01', now()::TIMESTAMP, ['ads_targeting'], ?, 0)",
                        [bid, seg, size])
        con.execute("INSERT INTO segment_members SELECT 1, 'vip', 'c' || lpad(i::VARCHAR, 8, '0'), false "
                    "FROM range(?) t(i)", [n])
        con.execute(
            "INSERT INTO sync_state SELECT 'big', 'meta', 'c' || lpad(i::VARCHAR, 8, '0'), "
            "sha256('user' || i || '@example.com') || ':', now()::TIMESTAMP FROM range(?) t(i)",
            [n],
        )
        con.execute("SELECT nextval('build_seq') FROM range(3)").fetchall()
    print(f"setup: {members:,} customers, consents, build, sync state in {time.perf_counter() - t:.1f} s")


def put_contacts(ws: object, ids: range) -> None:
    from privacy.keys import KeyStore
    from privacy.vault import Vault

    with ws.store() as con, KeyStore.open(ws.state_dir, create=True) as ks:  # type: ignore[attr-defined]
        Vault(con, ks).put_many((f"c{i:08d}", "email", f"user{i}@example.com") for i in ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--upload", type=int, default=100_000, help="members in the first-upload measurement")
    args = ap.parse_args()
    os.environ.setdefault("CDP_MASTER_KEY", base64.b64encode(b"b" * 32).decode())
    os.environ["BENCH_META_TOKEN"] = "meta-token"
    fake = subprocess.Popen([sys.executable, "-c", FAKE.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True)
    try:
        url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        root = Path(tempfile.mkdtemp(prefix="cdp-bench-sync-"))
        setup(root, url, args.members)
        from cdp.sync.diff import compute_diff
        from cdp.sync.runner import destination_terms, policy_from_config
        from cdp.workspace import Workspace
        from privacy import gate

        ws = Workspace(root)
        n = args.members
        # 1. gate + diff of the full audience against a full state
        with ws.store() as con:
            t, c = time.perf_counter(), cpu()
            aud = gate.release(con, 1, destination_terms("meta", ws.config.destinations["meta"]), "ads_targeting",
                               ws.segments.as_of("2026-06-01").utc, policy_from_config(ws))
            t_gate, c_gate = time.perf_counter() - t, cpu() - c
            t, c = time.perf_counter(), cpu()
            diff = compute_diff(con, sync="big", destination="meta", members=aud.members, mode="mirror",
                                purpose="ads_targeting", channel="ads")
            t_diff, c_diff = time.perf_counter() - t, cpu() - c
        print(f"gate release of {len(aud):,}: {t_gate:.2f} s (CPU {c_gate:.2f} s); diff: {t_diff:.2f} s "
              f"(CPU {c_diff:.2f} s; adds {diff.adds.num_rows}, removes {diff.removes.num_rows})")

        # 2. incremental: 1% change (half leave, half arrive), end to end through ws.sync.run
        change = n // 100
        arrive = range(n, n + change // 2)
        put_contacts(ws, arrive)
        with ws.store() as con:
            con.execute("DELETE FROM segment_members WHERE build_id = 1 AND customer_id < ?",
                        [f"c{change // 2:08d}"])
            con.execute("INSERT INTO segment_members SELECT 1, 'vip', 'c' || lpad(i::VARCHAR, 8, '0'), false "
                        "FROM range(?, ?) t(i)", [arrive.start, arrive.stop])
        t, c = time.perf_counter(), cpu()
        (res,) = Workspace(root).sync.run(["big"], as_of="2026-06-01")
        t_inc, c_inc = time.perf_counter() - t, cpu() - c
        print(f"incremental 1% ({res['adds']:,} adds, {res['removes']:,} removes): {res['status']} in {t_inc:.2f} s "
              f"(our CPU {c_inc:.2f} s)")

        # 3. first upload of --upload members (vault, hashing, batches of 10,000)
        m = args.upload
        t = time.perf_counter()
        put_contacts(ws, range(m))
        print(f"vault for {m:,} contacts written in {time.perf_counter() - t:.1f} s (setup, not measured)")
        with ws.store() as con:
            con.execute("INSERT INTO segment_members SELECT 2, 'upload', 'c' || lpad(i::VARCHAR, 8, '0'), false "
                        "FROM range(?) t(i)", [m])
        t, c = time.perf_counter(), cpu()
        (res,) = Workspace(root).sync.run(["upload"], as_of="2026-06-01")
        wall, ours = time.perf_counter() - t, cpu() - c
        batches = sum(res["batches"].values())
        print(f"first upload of {res['adds']:,} to the Meta fake: {res['status']} in {wall:.1f} s; "
              f"{batches} requests ({batches / wall:.1f} req/s, {res['adds'] / wall:,.0f} rows/s); "
              f"our CPU {ours:.1f} s = {100 * ours / wall:.0f}% of wall time")
    finally:
        fake.kill()


if __name__ == "__main__":
    main()

"""Identity resolution: connected components over identifier pseudonyms (PRIVACY.md §1).

Every row links the identifiers it carries (email, phone, tax id, source keys); each
known identifier links to its customer. The graph is built in DuckDB over integer node ids
and its components found by scipy (C code), so a million customers never loop in Python.
A connected component is one person:

* no known customer: a new one, ``customer_id = Pseudonymizer.customer_id(min id_hash)``,
  so the same data gives the same ids in any row order;
* one known customer: the new identifiers join it;
* several: they merge into the oldest (first seen, then smallest id); the others'
  identities, events, consents, vault entries, segment history and every other table with
  a ``customer_id`` follow, and ``customer_merges`` records each merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from cdp.ingest.values import ident, lit
from privacy.pseudonym import Pseudonymizer

__all__ = ["Resolution", "apply_merges", "resolve_rows"]

_CUSTOMER_INTERNAL = ("customer_id", "first_seen_at", "updated_at")
# handled on their own: the merge itself, the vault (re-encrypted), the ledger (payload-bound)
_SPECIAL_TABLES = {"customers", "customer_merges", "vault", "consent_events"}


@dataclass
class Resolution:
    """The outcome for one batch of rows (counts; the mapping is the temp table ``_resolve``)."""

    new_customers: int = 0
    new_identities: int = 0
    merges: list[tuple[str, str]] = field(default_factory=list)      # (old_id, surviving id)


def _components(n_nodes: int, edges: pa.Table) -> pa.Table:
    """``(nid, comp)`` for nodes ``0..n_nodes-1`` linked by the ``(a, b)`` edges (scipy, in C)."""
    import numpy as np

    if edges.num_rows == 0:
        labels = np.arange(n_nodes, dtype=np.int64)
    else:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        a = edges.column(0).to_numpy()
        b = edges.column(1).to_numpy()
        graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes)).tocsr()
        _, labels = connected_components(graph, directed=False)
    return pa.table({"nid": pa.array(np.arange(n_nodes, dtype=np.int64)),
                     "comp": pa.array(labels.astype(np.int64))})


def resolve_rows(
    con: Any, pz: Pseudonymizer, ids: list[tuple[str, str]], valid: str, *, source: str, now: datetime, vault: Any,
    insert_new: bool = True,
) -> Resolution:
    """Resolve the valid rows of ``_rows`` (``valid``: a condition over it as ``r``; identifier maps
    ``_map{i}`` ready) to customers.

    Writes identities, applies merges, writes the new customers (unless ``insert_new`` is
    false: the caller inserts them with their traits) and leaves ``_newc(customer_id)``,
    ``_resolve(h, customer_id)`` and, per identifier column, ``_kc{i}(raw, customer_id)``."""
    n = len(ids)
    res = Resolution()
    raw_cols = ", ".join(f"_k{i}" for i in range(n))
    hs = ", ".join(f"m{i}.h AS h{i}" for i in range(n))
    joins = " ".join(f"LEFT JOIN _map{i} m{i} ON m{i}.raw = t._k{i}" for i in range(n))
    con.execute("DROP TABLE IF EXISTS _tup")
    con.execute(f"CREATE TEMP TABLE _tup AS SELECT DISTINCT {hs} FROM "
                f"(SELECT DISTINCT {raw_cols} FROM _rows r WHERE {valid}) t {joins}")
    union = " UNION ALL ".join(f"SELECT h{i} AS h, {lit(kind)} AS kind FROM _tup WHERE h{i} IS NOT NULL"
                               for i, (kind, _) in enumerate(ids))
    con.execute("DROP TABLE IF EXISTS _node")
    con.execute(
        "CREATE TEMP TABLE _node AS SELECT (row_number() OVER () - 1)::BIGINT AS nid, n.h, n.kind, "
        f"i.customer_id AS old FROM (SELECT h, min(kind) AS kind FROM ({union}) GROUP BY h) n "
        "LEFT JOIN identities i ON i.id_hash = n.h"
    )
    n_nodes = int(con.execute("SELECT count(*) FROM _node").fetchone()[0])
    # edges: the first identifier of a row to each other one; identities of one customer to each other
    parts = [
        "SELECT nid AS a, min(nid) OVER (PARTITION BY old) AS b FROM _node WHERE old IS NOT NULL",
        *[f"SELECT x.nid AS a, y.nid AS b FROM (SELECT coalesce({', '.join(f'h{k}' for k in range(n))}) AS f, "
          f"h{i} AS o FROM _tup WHERE h{i} IS NOT NULL) e JOIN _node x ON x.h = e.f JOIN _node y ON y.h = e.o"
          for i in range(1, n)],
    ]
    # (a self-loop is harmless to the components; filtering it would invite a bad join order)
    edges = pa.concat_tables([con.execute(p).to_arrow_table() for p in parts])
    comp = _components(n_nodes, edges)
    del edges
    con.execute("DROP TABLE IF EXISTS _comp")
    con.register("_comp_in", comp)
    try:
        con.execute("CREATE TEMP TABLE _comp AS SELECT n.h, n.kind, n.old, c.comp FROM _node n "
                    "JOIN _comp_in c USING (nid)")
    finally:
        con.unregister("_comp_in")
    del comp
    con.execute("DROP TABLE IF EXISTS _node")
    con.execute("DROP TABLE IF EXISTS _outcome")
    con.execute("CREATE TEMP TABLE _outcome AS SELECT comp, min(h) AS min_h, count(DISTINCT old) AS n_old, "
                "min(old) AS one_old FROM _comp GROUP BY comp")
    # a new person: customer_id from the smallest id hash (the same data gives the same id in any order)
    targets = []
    for fresh in list(con.execute("SELECT comp, min_h FROM _outcome WHERE n_old = 0").to_arrow_reader(131_072)):
        ids_ = pa.array([pz.customer_id(h) for h in fresh.column(1).to_pylist()], pa.string())
        targets.append(pa.table({"comp": fresh.column(0), "customer_id": ids_}))
    new_ids = pa.concat_arrays([t.column(1).combine_chunks() for t in targets]) if targets else pa.array([], pa.string())
    targets.append(pa.table({"comp": pa.array([], pa.int64()), "customer_id": pa.array([], pa.string())}))
    # several known customers: merge into the oldest (first seen, then smallest id)
    multi = con.execute(
        "SELECT DISTINCT c.comp, c.old, cu.first_seen_at FROM _comp c JOIN _outcome o USING (comp) "
        "LEFT JOIN customers cu ON cu.customer_id = c.old WHERE o.n_old > 1 AND c.old IS NOT NULL"
    ).fetchall()
    groups: dict[int, list[tuple[datetime, str]]] = {}
    for comp_id, old, seen in multi:
        groups.setdefault(comp_id, []).append((seen or datetime.max, old))
    mcomps, mtargets = [], []
    for comp_id, olds in groups.items():
        olds.sort()
        mcomps.append(comp_id)
        mtargets.append(olds[0][1])
        res.merges.extend((old, olds[0][1]) for _, old in olds[1:])
    targets.append(pa.table({"comp": pa.array(mcomps, pa.int64()), "customer_id": pa.array(mtargets, pa.string())}))
    con.execute("DROP TABLE IF EXISTS _resolve")
    con.register("_target_in", pa.concat_tables([t.cast(targets[-1].schema) for t in targets]))
    try:
        con.execute(
            "CREATE TEMP TABLE _resolve AS SELECT c.h, c.kind, c.old, coalesce(t.customer_id, o.one_old) AS customer_id "
            "FROM _comp c JOIN _outcome o USING (comp) LEFT JOIN _target_in t USING (comp)"
        )
    finally:
        con.unregister("_target_in")
    for t in ("_comp", "_outcome", "_tup"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    res.new_customers = len(new_ids)
    con.execute("DROP TABLE IF EXISTS _newc")
    con.register("_new_customers", pa.table({"customer_id": new_ids}))
    try:
        con.execute("CREATE TEMP TABLE _newc AS SELECT customer_id FROM _new_customers "
                    "WHERE customer_id NOT IN (SELECT customer_id FROM customers)")
    finally:
        con.unregister("_new_customers")
    del new_ids
    if insert_new:
        con.execute("INSERT INTO customers (customer_id, first_seen_at, updated_at) SELECT customer_id, ?, ? FROM _newc",
                    [now, now])
    res.new_identities = int(con.execute(
        "INSERT INTO identities (id_hash, kind, customer_id, source, first_seen_at) "
        "SELECT h, kind, customer_id, ?, ? FROM _resolve WHERE old IS NULL",
        [source, now],
    ).fetchone()[0])
    if res.merges:
        apply_merges(con, res.merges, now=now, vault=vault)
    for i in range(n):
        con.execute(f"DROP TABLE IF EXISTS _kc{i}")
        con.execute(f"CREATE TEMP TABLE _kc{i} AS SELECT m.raw, r.customer_id FROM _map{i} m "
                    "JOIN _resolve r ON r.h = m.h")
    return res


def _customer_tables(con: Any) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'customer_id' "
        "AND table_schema = 'main' AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_schema = 'main')"
    ).fetchall()
    return sorted(r[0] for r in rows if r[0] not in _SPECIAL_TABLES)


def _key_columns(con: Any, table: str) -> list[str] | None:
    """The other columns of a primary/unique key that includes customer_id, if any."""
    rows = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
        [table],
    ).fetchall()
    for (cols,) in rows:
        if "customer_id" in cols:
            return [c for c in cols if c != "customer_id"]
    return None


def apply_merges(con: Any, merges: list[tuple[str, str]], *, now: datetime, vault: Any) -> None:
    """Merge each ``old`` customer into its survivor, everywhere (inside the caller's transaction)."""
    olds, news = zip(*merges)
    con.register("_merge", pa.table({"old_id": pa.array(olds, pa.string()), "new_id": pa.array(news, pa.string())}))
    try:
        con.execute("INSERT INTO customer_merges SELECT old_id, new_id, ? FROM _merge", [now])
        # the survivor keeps its traits and fills the gaps from the merged customers
        traits = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' "
                "AND table_schema = 'main' ORDER BY ordinal_position"
            ).fetchall()
            if r[0] not in _CUSTOMER_INTERNAL
        ]
        sets = ", ".join(f"{ident(t)} = coalesce(customers.{ident(t)}, o.{ident(t)})" for t in traits)
        aggs = ", ".join(f"first(c.{ident(t)}) FILTER (WHERE c.{ident(t)} IS NOT NULL) AS {ident(t)}" for t in traits)
        con.execute(
            f"""
            UPDATE customers SET {sets + ', ' if sets else ''}
                first_seen_at = least(customers.first_seen_at, o.first_seen_at), updated_at = ?
            FROM (SELECT m.new_id, min(c.first_seen_at) AS first_seen_at{', ' + aggs if aggs else ''}
                  FROM _merge m JOIN customers c ON c.customer_id = m.old_id GROUP BY m.new_id) o
            WHERE customers.customer_id = o.new_id
            """,
            [now],
        )
        con.execute("DELETE FROM customers WHERE customer_id IN (SELECT old_id FROM _merge)")
        for table in _customer_tables(con):
            t = ident(table)
            keys = _key_columns(con, table)
            if keys:
                same = " AND ".join(f"x.{ident(k)} IS NOT DISTINCT FROM {t}.{ident(k)}" for k in keys)
                con.execute(
                    f"UPDATE {t} SET customer_id = m.new_id FROM _merge m WHERE {t}.customer_id = m.old_id "
                    f"AND NOT EXISTS (SELECT 1 FROM {t} x WHERE x.customer_id = m.new_id AND {same})"
                )
                con.execute(f"DELETE FROM {t} WHERE customer_id IN (SELECT old_id FROM _merge)")
            else:
                con.execute(
                    f"UPDATE {t} SET customer_id = m.new_id FROM _merge m WHERE {t}.customer_id = m.old_id"
                )
        # consent events recorded by identifier carry no customer_id in their signed payload:
        # their link follows the merge; events whose payload names the customer stay as proof
        con.execute(
            "UPDATE consent_events SET customer_id = m.new_id FROM _merge m "
            "WHERE consent_events.customer_id = m.old_id "
            "AND (payload IS NULL OR json_extract_string(payload, '$.customer_id') IS NULL)"
        )
    finally:
        con.unregister("_merge")
    vault.move_many(merges)

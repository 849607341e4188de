"""`cdp privacy scan`: run the PII scan over a source's files or the store's traits and properties."""

from __future__ import annotations

import glob
import json
from typing import Any

import duckdb

from cdp.errors import NotFoundError

__all__ = ["MAX_VALUES", "scan"]

#: values scanned per column (a sample of a huge column is enough to show a hidden identifier)
MAX_VALUES = 200_000


def _findings(column: str, values: list[Any], where: str, *, text: bool = False) -> list[dict[str, Any]]:
    """``text``: the column is a text trait/property (a lone bare TCKN among words counts)."""
    from privacy.scan import scan_values

    return [{"where": where, "column": f.column, "kind": f.kind, "count": f.count}
            for f in scan_values(column, [None if v is None else str(v) for v in values], text=text)]


def _scan_store(svc: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with svc.ws.store(read_only=svc.ws.store_path.exists()) as con:
        for table in ("customers", "events"):
            cols = con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND data_type IN ('VARCHAR', 'JSON') AND column_name NOT IN "
                "('customer_id', 'event_id', 'event_type', 'source') ORDER BY ordinal_position", [table]
            ).fetchall()
            for (col,) in cols:
                values = [r[0] for r in con.execute(
                    f'SELECT "{col}"::VARCHAR FROM "{table}" WHERE "{col}" IS NOT NULL LIMIT {MAX_VALUES}'
                ).fetchall()]
                if col == "properties":
                    by_key: dict[str, list[Any]] = {}
                    for v in values:
                        try:
                            obj = json.loads(v)
                        except ValueError:
                            continue
                        if isinstance(obj, dict):
                            for k, val in obj.items():
                                if isinstance(val, (str, int)):
                                    by_key.setdefault(k, []).append(val)
                    for k, vals in by_key.items():
                        text = not all(isinstance(v, int) for v in vals)   # JSON strings: a text property
                        out += _findings(f"properties.{k}", vals, table, text=text)
                else:
                    out += _findings(col, values, table, text=True)     # VARCHAR: text traits/properties
    return out


def _scan_source(svc: Any, name: str) -> list[dict[str, Any]]:
    cfg = svc.ws.config.sources.get(name)
    if cfg is None:
        import difflib

        close = difflib.get_close_matches(name, list(svc.ws.config.sources), n=1)
        raise NotFoundError("source", name, suggestion=close[0] if close else None)
    paths = cfg.path if isinstance(cfg.path, list) else [cfg.path] if cfg.path else []
    files = sorted({f for p in paths for f in glob.glob(str(svc.ws.root / p))})
    declared = set(cfg.identifiers.values()) | set(getattr(cfg, "identifier", {}).values()) | set(cfg.contact)
    text_cols = {name if isinstance(spec, str) else (spec.column or name)
                 for name, spec in {**cfg.traits, **cfg.properties}.items()
                 if (spec if isinstance(spec, str) else spec.type) == "text"}
    out: list[dict[str, Any]] = []
    con = duckdb.connect()
    try:
        for f in files:
            if cfg.kind == "parquet":
                rel = con.execute("SELECT * FROM read_parquet(?)", [f])
            elif cfg.kind == "jsonl":
                rel = con.execute("SELECT * FROM read_json_auto(?, format='newline_delimited')", [f])
            else:
                rel = con.execute("SELECT * FROM read_csv(?, all_varchar=true)", [f])
            names = [d[0] for d in rel.description]
            rows = rel.fetchmany(MAX_VALUES)
            for i, col in enumerate(names):
                if col in declared:
                    continue
                out += _findings(col, [r[i] for r in rows], f"{name}:{f.rsplit('/', 1)[-1]}",
                                 text=col in text_cols)
    finally:
        con.close()
    return out


def scan(svc: Any, *, source: str | None = None, store: bool = False) -> list[dict[str, Any]]:
    """Findings (where, column, kind, count) for one source, every source, or the store."""
    if store:
        found = _scan_store(svc)
    elif source:
        found = _scan_source(svc, source)
    else:
        found = [f for name in svc.ws.config.sources for f in _scan_source(svc, name)]
    if svc.ws.store_path.exists():
        from privacy import audit

        with svc.ws.store() as con:
            audit.record(con, "privacy.scan", target=source or ("store" if store else "sources"),
                         details={"findings": len(found), "kinds": sorted({f["kind"] for f in found})})
    return found

"""File sources: CSV, Parquet and JSON Lines, read through DuckDB and streamed as Arrow.

CSV dialect is sniffed by DuckDB (``;`` or ``,``, quoting, header) unless cdp.toml sets
``delimiter``; UTF-8 with or without BOM is read as is, ``encoding`` may name
``utf-16`` or ``latin-1``. Every CSV column is read as text so that nothing is lost
before validation (a phone's leading zero, a tax id's digits); the other formats are
read with their own types and turned into text too, so ingestion sees one shape.

A file is read again only when it changed: same size and mtime is unchanged; a file that
grew and still starts with the bytes read before is appended to, and only its new rows
are read; any other change re-reads the whole file (ingestion is idempotent).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cdp.errors import IngestError
from connectors.sources.base import ReadUnit, SourceState, register_reader

__all__ = ["FileReader", "file_digests"]

_BATCH_ROWS = 262_144


def file_digests(path: Path, prefix_size: int | None = None) -> tuple[str, str | None]:
    """SHA-256 of the whole file and, if asked, of its first ``prefix_size`` bytes (one pass)."""
    h = hashlib.sha256()
    prefix: str | None = None
    done = 0
    with open(path, "rb") as fh:
        while True:
            want = 1 << 20
            if prefix_size is not None and prefix is None and done < prefix_size:
                want = min(want, prefix_size - done)
            chunk = fh.read(want)
            if not chunk:
                break
            h.update(chunk)
            done += len(chunk)
            if prefix_size is not None and prefix is None and done == prefix_size:
                prefix = h.copy().hexdigest()
    return h.hexdigest(), prefix


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class FileReader:
    """Reader of a csv/parquet/jsonl source (see :class:`connectors.sources.base.SourceReader`)."""

    def __init__(self, name: str, config: Any, root: Path) -> None:
        self.name = name
        self.config = config
        self.root = Path(root)

    # -- planning -------------------------------------------------------------------------
    def files(self) -> list[Path]:
        out: list[Path] = []
        for pattern in self.config.paths:
            full = pattern if os.path.isabs(pattern) else str(self.root / pattern)
            matches = sorted(glob.glob(full, recursive=True))
            out.extend(Path(m) for m in matches if Path(m).is_file())
        return list(dict.fromkeys(out))

    def _rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def plan(self, state: SourceState) -> list[ReadUnit]:
        units: list[ReadUnit] = []
        for path in self.files():
            st = path.stat()
            rel = self._rel(path)
            prev = state.units.get(rel)
            if prev is not None and prev.size == st.st_size and prev.mtime == st.st_mtime:
                continue
            grown = prev is not None and prev.size is not None and st.st_size > prev.size and prev.digest
            digest, prefix = file_digests(path, prev.size if grown and prev else None)
            if prev is not None and prev.digest == digest:
                continue
            start = prev.rows if (grown and prev is not None and prefix == prev.digest) else 0
            units.append(
                ReadUnit(path=rel, size=st.st_size, mtime=st.st_mtime, digest=digest, rows=start, skipped_rows=start)
            )
        return units

    # -- reading --------------------------------------------------------------------------
    def _scan_sql(self, path: Path) -> str:
        c = self.config
        p = _quote(str(path))
        if c.kind == "csv":
            opts = ["all_varchar = true", f"header = {'true' if c.header else 'false'}"]
            if c.delimiter:
                opts.append(f"delim = {_quote(chr(9) if c.delimiter == chr(92) + 't' else c.delimiter)}")
            if c.encoding and c.encoding.lower().replace("-", "") not in ("utf8", "utf8bom", "utf8sig"):
                opts.append(f"encoding = {_quote(c.encoding)}")
            return f"SELECT * FROM read_csv({p}, {', '.join(opts)})"
        if c.kind == "parquet":
            return f"SELECT * FROM read_parquet({p})"
        if c.kind == "jsonl":
            return f"SELECT * FROM read_json({p}, format = 'newline_delimited')"
        raise IngestError(f"unsupported file kind '{c.kind}'", source=self.name)

    def batches(self, unit: ReadUnit, state: SourceState) -> Iterator[pa.RecordBatch]:
        path = self.root / unit.path if not os.path.isabs(unit.path) else Path(unit.path)
        con = duckdb.connect()
        try:
            con.execute("SET preserve_insertion_order = true")   # rows in file order: line numbers
            con.execute("SET memory_limit = ?", [os.environ.get("CDP_READER_MEMORY_LIMIT", "512MB")])
            sql = self._scan_sql(path)
            try:
                rel = con.execute(sql)
                names = [d[0] for d in rel.description]
            except duckdb.Error as exc:
                raise IngestError(f"cannot read {unit.path}: {str(exc).splitlines()[0]}", source=self.name) from exc
            names = [n.lstrip("\ufeff") for n in names]
            casts = ", ".join(f'CAST("{n2}" AS VARCHAR) AS "{n}"' for n, n2 in zip(names, [d[0] for d in rel.description]))
            offset = f" OFFSET {int(unit.skipped_rows)}" if unit.skipped_rows else ""
            sql2 = f"SELECT {casts} FROM ({sql}){offset}"
            first_line = (2 if (self.config.kind == "csv" and self.config.header) else 1) + unit.skipped_rows
            try:
                reader = con.execute(sql2).to_arrow_reader(_BATCH_ROWS)
            except duckdb.Error as exc:
                raise IngestError(f"cannot read {unit.path}: {str(exc).splitlines()[0]}", source=self.name) from exc
            n = 0
            file_col = unit.path
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (duckdb.Error, pa.ArrowException) as exc:
                    raise IngestError(
                        f"cannot read {unit.path} near row {first_line + n}: {str(exc).splitlines()[0]}",
                        source=self.name,
                    ) from exc
                rows = batch.num_rows
                if rows == 0:
                    continue
                lines = pa.array(range(first_line + n, first_line + n + rows), pa.int64())
                files = pa.array([file_col] * rows, pa.string())
                batch = pa.RecordBatch.from_arrays(
                    [files, lines, *batch.columns], names=["_file", "_line", *batch.schema.names]
                )
                n += rows
                yield batch
            unit.rows = unit.skipped_rows + n
        finally:
            con.close()


def _factory(name: str, config: Any, root: Path) -> FileReader:
    return FileReader(name, config, root)


for _kind in ("csv", "parquet", "jsonl"):
    register_reader(_kind, _factory)

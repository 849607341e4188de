"""File sources: CSV, Parquet and JSON Lines, read through DuckDB and streamed as Arrow.

CSV dialect is sniffed by DuckDB (``;`` or ``,``, quoting, header) unless cdp.toml sets
``delimiter``; UTF-8 with or without BOM is read as is, ``encoding`` may name
``utf-16`` or ``latin-1``. Every CSV column is read as text so that nothing is lost
before validation (a phone's leading zero, a tax id's digits); the other formats are
read with their own types and turned into text too, so ingestion sees one shape.
A CSV row with fewer or more fields than the header is still yielded, flagged in the
``_reject_column``/``_reject_reason`` columns so that ingestion rejects it with its line;
a file with a header and no rows yields one empty batch that carries its columns.

A file is read again only when it changed: same size and mtime is unchanged; a file that
grew and still starts with the bytes read before is appended to, and only its new rows
are read; any other change re-reads the whole file (ingestion is idempotent).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cdp.errors import IngestError
from connectors.sources.base import REJECT_COLUMN, REJECT_REASON, ReadUnit, SourceState, register_reader

__all__ = ["FileReader", "file_digests"]

_BATCH_ROWS = 262_144
_PARALLEL_MIN_BYTES = 8 << 20
_QUOTES = ("\"", "'")
_DELIMITERS = (",", ";", "\t", "|")
_EMPTY = "(empty)"                      # how sniff_csv spells "none" (no quote, escape, comment)
_SPARE = "_cdp_extra_field"             # filled only by a row with more fields than the header
_NULL_SENTINEL = "\x1f\x1ecdp:no-null\x1e\x1f"  # so that only null_padding gives NULL


def file_digests(path: Path, prefix_size: int | None = None, seen: set[str] | None = None) -> tuple[str, str | None]:
    """SHA-256 of the whole file and, if asked, of its first ``prefix_size`` bytes (one pass);
    the quote characters found in the file are added to ``seen``."""
    h = hashlib.sha256()
    prefix: str | None = None
    done = 0
    look = [q for q in _QUOTES if seen is not None]
    with open(path, "rb") as fh:
        while True:
            want = 1 << 20
            if prefix_size is not None and prefix is None and done < prefix_size:
                want = min(want, prefix_size - done)
            chunk = fh.read(want)
            if not chunk:
                break
            h.update(chunk)
            for q in look:
                if q.encode() in chunk:
                    seen.add(q)   # type: ignore[union-attr]
            look = [q for q in look if q not in seen]   # type: ignore[operator]
            done += len(chunk)
            if prefix_size is not None and prefix is None and done == prefix_size:
                prefix = h.copy().hexdigest()
    return h.hexdigest(), prefix


def _parallel_safe(path: Path, quote: str, quotes_seen: str | None) -> bool:
    """True when a file is big enough to gain from the parallel reader and holds no quote char
    (``quotes_seen``: the quote characters the digest pass saw in the file; None: unknown)."""
    if path.stat().st_size < _PARALLEL_MIN_BYTES or quotes_seen is None or quote not in _QUOTES:
        return False
    return quote not in quotes_seen


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_names(fields: list[str]) -> list[str]:
    """Header fields as DuckDB names them: trimmed, ``column{i}`` when blank, ``_1`` on repeats."""
    out: list[str] = []
    for i, raw in enumerate(fields):
        name = raw.strip() or f"column{i}"
        base, k = name, 0
        while name in out:
            k += 1
            name = f"{base}_{k}"
        out.append(name)
    return out


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
            seen: set[str] = set()
            digest, prefix = file_digests(path, prev.size if grown and prev else None, seen)
            if prev is not None and prev.digest == digest:
                continue
            start = prev.rows if (grown and prev is not None and prefix == prev.digest) else 0
            units.append(
                ReadUnit(path=rel, size=st.st_size, mtime=st.st_mtime, digest=digest, rows=start, skipped_rows=start,
                         quotes="".join(sorted(seen)))
            )
        return units

    # -- reading --------------------------------------------------------------------------
    def _csv_options(self) -> list[str]:
        """The options the user may set (header, delimiter, encoding), for sniffing and reading."""
        c = self.config
        opts = [f"header = {'true' if c.header else 'false'}"]
        if c.delimiter:
            opts.append(f"delim = {_quote(chr(9) if c.delimiter == chr(92) + 't' else c.delimiter)}")
        if c.encoding and c.encoding.lower().replace("-", "") not in ("utf8", "utf8bom", "utf8sig"):
            opts.append(f"encoding = {_quote(c.encoding)}")
        return opts

    def _header(self, path: Path) -> tuple[str | None, list[str] | None]:
        """Delimiter and field names of the first line, read in Python.

        The header is the one line whose layout is certain; DuckDB's sniffer weighs every
        sampled row, so in a small file one short row can make it pick the wrong delimiter or
        give up. A configured delimiter wins; otherwise the candidate seen most often outside
        quotes in the header (none: a one-column file, left to the sniffer)."""
        c = self.config
        enc = c.encoding if c.encoding and c.encoding.lower().replace("-", "") not in ("utf8", "utf8bom", "utf8sig") \
            else "utf-8-sig"
        try:
            with open(path, encoding=enc, errors="replace", newline="") as fh:
                line = fh.readline().lstrip("\ufeff").rstrip("\r\n")
        except (LookupError, OSError):
            return None, None
        delim = (chr(9) if c.delimiter == chr(92) + "t" else c.delimiter) if c.delimiter else None
        if delim is None:
            counts = dict.fromkeys(_DELIMITERS, 0)
            quoted = False
            for ch in line:
                if ch == '"':
                    quoted = not quoted
                elif not quoted and ch in counts:
                    counts[ch] += 1
            best = max(_DELIMITERS, key=lambda d: counts[d])
            delim = best if counts[best] else None
        if not line.strip() or delim is None:
            return delim, None
        return delim, next(csv.reader([line], delimiter=delim, quotechar='"'))

    def _csv_scan(self, con: Any, path: Path, rel: str, quotes_seen: str | None = None) -> tuple[str, list[str], int]:
        """SQL reading a CSV file row by row, its column names and the lines skipped before data.

        The delimiter comes from the header line (:meth:`_header`), quoting, comments and
        leading junk lines from DuckDB's sniffer run leniently (``ignore_errors``, no strict
        mode) so that malformed rows cannot derail detection. The file is then read with that
        dialect and an explicit all-VARCHAR schema plus one spare column: with ``null_padding``
        a row with too few fields keeps its line (the missing trailing fields are NULL) and with
        ``strict_mode`` off a row with too many fills the spare column; ``nullstr`` is a
        sentinel so that only padding yields NULL.
        """
        opts = self._csv_options()
        delim, fields = self._header(path)
        user = [o for o in opts if not o.startswith("delim")]
        if delim is not None:
            user.append(f"delim = {_quote(delim)}")
        try:
            sniffed = con.execute(
                "SELECT Delimiter, Quote, Escape, SkipRows, Columns, Comment FROM sniff_csv("
                f"{_quote(str(path))}, {', '.join(user)}, ignore_errors = true, null_padding = true, "
                "strict_mode = false)"
            ).fetchone()
        except duckdb.Error as exc:
            if fields is None:
                raise IngestError(f"cannot read {rel}: {str(exc).splitlines()[0]}", source=self.name) from exc
            sniffed = (delim, _EMPTY, _EMPTY, 0, [], _EMPTY)   # the header alone gives the layout
        found_delim, quote, escape, skip, columns, comment = sniffed
        names = [col["name"] for col in columns]
        if fields is not None and not skip and len(fields) != len(names):
            names = _column_names(fields) if self.config.header else [f"column{i}" for i in range(len(fields))]
        read = [*user] if delim is not None else [*user, f"delim = {_quote(found_delim)}"]
        read.append(f"quote = {_quote(quote if quote and quote != _EMPTY else chr(34))}")
        if escape and escape != _EMPTY:
            read.append(f"escape = {_quote(escape)}")
        if comment and comment != _EMPTY:
            read.append(f"comment = {_quote(comment)}")
        if skip:
            read.append(f"skip = {int(skip)}")
        schema = ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in [*names, _SPARE])
        q = quote if quote and quote != _EMPTY else chr(34)
        read += [
            f"columns = {{{schema}}}", "auto_detect = false", "null_padding = true", "strict_mode = false",
            f"nullstr = {_quote(_NULL_SENTINEL)}", "allow_quoted_nulls = false",
            # null_padding with quoted newlines needs the serial reader: a large file without the
            # quote character cannot have any, so it is read in parallel
            f"parallel = {'true' if _parallel_safe(path, q, quotes_seen) else 'false'}",
        ]
        return f"SELECT * FROM read_csv({_quote(str(path))}, {', '.join(read)})", names, int(skip or 0)

    def _scan_sql(self, path: Path) -> str:
        c = self.config
        p = _quote(str(path))
        if c.kind == "parquet":
            return f"SELECT * FROM read_parquet({p})"
        if c.kind == "jsonl":
            return f"SELECT * FROM read_json({p}, format = 'newline_delimited')"
        raise IngestError(f"unsupported file kind '{c.kind}'", source=self.name)

    def _select_sql(self, con: Any, path: Path, rel: str, quotes_seen: str | None = None) -> tuple[str, int]:
        """SQL yielding every data column as text (plus the reject columns of a CSV) and the
        number of lines before the first data row."""
        if self.config.kind == "csv":
            scan, names, skip = self._csv_scan(con, path, rel, quotes_seen)
            cols = [_ident(n) for n in names]
            names = [n.lstrip("\ufeff") for n in names]
            data = ", ".join(f"NULLIF({q}, '') AS {_ident(n)}" for q, n in zip(cols, names))
            first_missing = " ".join(f"WHEN {q} IS NULL THEN {_quote(n)}" for q, n in zip(cols, names))
            short = f"{cols[-1]} IS NULL" if cols else "false"
            spare = _ident(_SPARE)
            # never the row's values: the column is the first one missing (NULL for extra fields)
            reason = f"CASE WHEN {spare} IS NOT NULL THEN 'too many fields' WHEN {short} THEN 'too few fields' END"
            column = f"CASE WHEN {spare} IS NOT NULL THEN NULL WHEN {short} THEN (CASE {first_missing} END) END" \
                if cols else "NULL"
            sql = (f"SELECT {data + ', ' if data else ''}({column})::VARCHAR AS {REJECT_COLUMN}, "
                   f"({reason})::VARCHAR AS {REJECT_REASON} FROM ({scan})")
            return sql, (1 if self.config.header else 0) + skip
        sql = self._scan_sql(path)
        try:
            described = con.execute(f"DESCRIBE {sql}").fetchall()
        except duckdb.Error as exc:
            raise IngestError(f"cannot read {rel}: {str(exc).splitlines()[0]}", source=self.name) from exc
        casts = ", ".join(f"CAST({_ident(d[0])} AS VARCHAR) AS {_ident(d[0].lstrip(chr(0xFEFF)))}" for d in described)
        return f"SELECT {casts} FROM ({sql})", 0

    def select_sql(self, con: Any, unit: ReadUnit) -> tuple[str, list[str], int] | None:
        """SQL reading ``unit``'s new rows as text (for ingestion to run inside ``con``), its column
        names (with the reject columns of a CSV), and the line of its first row; ``None`` for an
        empty file (not even a header).

        The rows come in file order (DuckDB keeps insertion order), so the n-th row inserted
        from this SQL is line ``first_line + n``."""
        path = self.root / unit.path if not os.path.isabs(unit.path) else Path(unit.path)
        if self.config.kind == "csv" and path.stat().st_size == 0:
            return None
        sql, before = self._select_sql(con, path, unit.path, unit.quotes)
        names = [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()]
        offset = f" OFFSET {int(unit.skipped_rows)}" if unit.skipped_rows else ""
        return f"{sql}{offset}", names, before + 1 + unit.skipped_rows

    def batches(self, unit: ReadUnit, state: SourceState) -> Iterator[pa.RecordBatch]:
        path = self.root / unit.path if not os.path.isabs(unit.path) else Path(unit.path)
        if self.config.kind == "csv" and path.stat().st_size == 0:
            unit.rows = 0
            return  # an empty file has not even a header: nothing to read
        con = duckdb.connect()
        try:
            con.execute("SET preserve_insertion_order = true")   # rows in file order: line numbers
            con.execute("SET memory_limit = ?", [os.environ.get("CDP_READER_MEMORY_LIMIT", "512MB")])
            sql, before = self._select_sql(con, path, unit.path)
            offset = f" OFFSET {int(unit.skipped_rows)}" if unit.skipped_rows else ""
            first_line = before + 1 + unit.skipped_rows
            try:
                reader = con.execute(f"{sql}{offset}").to_arrow_reader(_BATCH_ROWS)
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
                yield _with_position(batch, file_col, first_line + n)
                n += rows
            if n == 0:
                # a header and no rows: an empty batch still tells ingestion the columns
                yield _with_position(pa.RecordBatch.from_pylist([], schema=reader.schema), file_col, first_line)
            unit.rows = unit.skipped_rows + n
        finally:
            con.close()


def _with_position(batch: pa.RecordBatch, file: str, first_line: int) -> pa.RecordBatch:
    rows = batch.num_rows
    lines = pa.array(range(first_line, first_line + rows), pa.int64())
    files = pa.array([file] * rows, pa.string())
    return pa.RecordBatch.from_arrays([files, lines, *batch.columns], names=["_file", "_line", *batch.schema.names])


def _factory(name: str, config: Any, root: Path) -> FileReader:
    return FileReader(name, config, root)


for _kind in ("csv", "parquet", "jsonl"):
    register_reader(_kind, _factory)

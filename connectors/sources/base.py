"""The source connector protocol: what ingestion needs from any system it reads.

A reader yields the *new* raw rows of one source as pyarrow record batches, each with two
extra columns: ``_file`` (a workspace-relative file name, or a table name) and ``_line``
(the 1-based line or row number, for reject messages). A reader that could read a row only in
part (a CSV row with fewer or more fields than the header) still yields it, with the optional
text columns ``_reject_column`` (the column concerned, or NULL) and ``_reject_reason`` (why,
never a value): ingestion rejects such a row like any other bad row. It reports, per unit it read, a
:class:`ReadUnit` that ingestion stores (``ingest_files``) once the rows are committed,
and receives the stored state on the next run so it can skip what was already read
(unchanged files, already-read rows of a grown file, rows under a cursor).

File kinds (csv, parquet, jsonl) live in :mod:`connectors.sources.files`; database kinds
implement the same protocol and register themselves with :func:`register_reader`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

__all__ = ["READERS", "REJECT_COLUMN", "REJECT_REASON", "ReadUnit", "SourceReader", "SourceState", "reader_for", "register_reader"]


#: optional columns of a batch: a row the reader could not read whole, and why (never its values)
REJECT_COLUMN = "_reject_column"
REJECT_REASON = "_reject_reason"


@dataclass
class ReadUnit:
    """One file (or table) read: enough to know next time whether anything is new."""

    path: str                   # workspace-relative file path, or "table:<name>"
    size: int | None = None
    mtime: float | None = None
    digest: str | None = None   # SHA-256 of the bytes read (files)
    rows: int = 0               # data rows read so far in total (for appended files)
    cursor: str | None = None   # highest cursor value read (databases)
    skipped_rows: int = 0       # rows skipped this run because they were read before
    quotes: str | None = None   # quote characters seen in the file when it was planned (None: not looked)


@dataclass
class SourceState:
    """What previous runs read, per unit path."""

    units: dict[str, ReadUnit] = field(default_factory=dict)


@runtime_checkable
class SourceReader(Protocol):
    """Reads the new raw rows of one configured source."""

    name: str

    def plan(self, state: SourceState) -> list[ReadUnit]:
        """The units with something new, without reading their rows yet."""
        ...

    def batches(self, unit: ReadUnit, state: SourceState) -> Iterator[pa.RecordBatch]:
        """The new rows of ``unit`` with ``_file`` and ``_line`` columns, in source order."""
        ...


ReaderFactory = Callable[[str, Any, Path], SourceReader]
#: kind -> factory(name, source config, workspace root)
READERS: dict[str, ReaderFactory] = {}


def register_reader(kind: str, factory: ReaderFactory) -> None:
    """Make a source kind readable (database connectors call this on import)."""
    READERS[kind] = factory


def reader_for(name: str, config: Any, root: Path) -> SourceReader:
    """The reader of a configured source, by its ``kind``."""
    from cdp.errors import IngestError

    kind = getattr(config, "kind", None)
    if kind not in READERS:
        if kind in ("csv", "parquet", "jsonl"):
            import connectors.sources.files  # noqa: F401  (registers the file kinds)
        elif kind in ("postgres", "mysql"):  # engines area: the database kinds register on import
            import importlib

            importlib.import_module(f"connectors.sources.{kind}")
        if kind not in READERS:
            raise IngestError(f"no reader for source kind '{kind}' is installed", source=name)
    return READERS[kind](name, config, root)

"""Source connectors: read raw rows from files and databases (see :mod:`.base`)."""

from __future__ import annotations

from connectors.sources.base import READERS, ReadUnit, SourceReader, SourceState, reader_for, register_reader

__all__ = ["READERS", "ReadUnit", "SourceReader", "SourceState", "reader_for", "register_reader"]

"""Ingestion: sources -> pseudonymized, resolved, validated rows in the store (issue 3)."""

from __future__ import annotations

from cdp.ingest.report import IngestReport, SourceReport
from cdp.ingest.run import Progress, run_ingest

__all__ = ["IngestReport", "Progress", "SourceReport", "run_ingest"]

"""What an ingestion did, per source and in total (counts only, never values)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["IngestReport", "SourceReport"]


class _Timer:
    __slots__ = ("name", "peaks", "phases", "t")

    def __init__(self, phases: dict[str, float], peaks: dict[str, int], name: str) -> None:
        self.phases, self.peaks, self.name, self.t = phases, peaks, name, 0.0

    def __enter__(self) -> None:
        self.t = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.phases[self.name] = round(self.phases.get(self.name, 0.0) + time.perf_counter() - self.t, 3)
        self.peaks[self.name] = _peak_rss_mb()


def _peak_rss_mb() -> int:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


@dataclass
class SourceReport:
    """Counts of one source's run. ``columns_dropped`` maps column -> rows it had."""

    source: str
    entity: str
    run_id: int | None = None
    files: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_suppressed: int = 0
    rows_unchanged: int = 0
    corrections: int = 0
    customers_new: int = 0
    customers_merged: int = 0
    identities_new: int = 0
    vault_fields: int = 0
    consents_appended: int = 0
    consents_pending: int = 0
    consents_attached: int = 0
    identifiers_invalid: dict[str, int] = field(default_factory=dict)
    columns_dropped: dict[str, int] = field(default_factory=dict)
    columns_blocked: dict[str, str] = field(default_factory=dict)   # column -> identifier kind found
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    first_reject: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)   # phase -> seconds (read, resolve, load...)
    peak_rss_mb: dict[str, int] = field(default_factory=dict)  # phase -> the process's peak RSS at its end


    def timed(self, phase: str) -> _Timer:
        """``with report.timed("read"): ...`` adds the block's wall time to ``phases[phase]``."""
        return _Timer(self.phases, self.peak_rss_mb, phase)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IngestReport:
    """The result of :meth:`cdp.Workspace.ingest`."""

    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.sources)

    @property
    def warnings(self) -> list[str]:
        return [f"{s.source}: {w}" for s in self.sources for w in s.warnings]

    def to_dict(self) -> dict[str, Any]:
        keys = ("rows_read", "rows_loaded", "rows_rejected", "rows_suppressed", "rows_unchanged", "corrections",
                "customers_new", "customers_merged", "identities_new", "vault_fields", "consents_appended",
                "consents_pending")
        return {
            **{k: self.total(k) for k in keys},
            "columns_dropped": sum(len(s.columns_dropped) for s in self.sources),
            "seconds": round(self.seconds, 3),
            "warnings": self.warnings,
            "sources": [s.to_dict() for s in self.sources],
        }

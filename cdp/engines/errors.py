"""Errors of the engines: an engine cannot be reached, or a job on it failed.

    CDPError
    └── EngineError                 a push/export/build on an engine failed
        └── EngineUnavailableError  the server cannot be reached / pyspark is missing (transient)
"""

from __future__ import annotations

from cdp.errors import CDPError

__all__ = ["EngineError", "EngineUnavailableError"]


class EngineError(CDPError):
    """A job on PostgreSQL or Spark failed; ``engine`` names which.

    Messages name the engine, table and step, never a DSN (it may hold a password)
    and never a row value.
    """

    def __init__(self, message: str, *, engine: str, hint: str | None = None) -> None:
        self.engine = engine
        super().__init__(f"{engine}: {message}", hint=hint)


class EngineUnavailableError(EngineError):
    """The engine cannot be reached or is not installed; retrying later may help."""

    transient = True

"""[engines.*]: where segments may run besides the embedded DuckDB."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["EnginesConfig"]


class EnginesConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

"""[sources.NAME]: where data comes from and how its columns map (docs/config.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["SourceConfig"]


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: str
    entity: str

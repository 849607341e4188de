"""[destinations.NAME] and [syncs.NAME] (DESTINATIONS.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DestinationConfig", "SyncConfig"]


class DestinationConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: str


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    segment: str
    destination: str
    purpose: str

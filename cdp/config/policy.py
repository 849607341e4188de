"""[privacy]: policy values the privacy layer enforces (PRIVACY.md). Defaults may be tightened, never silently loosened."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["PolicyConfig"]


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

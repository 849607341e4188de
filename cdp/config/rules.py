"""[rules]: RFM defaults, segment build retention and model monitoring."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RulesConfig"]


class RulesConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

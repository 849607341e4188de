"""cdp.toml: loaded with tomllib, validated with pydantic, errors name the key and file:line.

One module per section, owned by the part of the code that uses it:
``sources`` (ingestion), ``policy`` (the privacy layer's policy values),
``destinations`` (destinations and syncs), ``engines`` (PostgreSQL/Spark),
``rules`` (RFM and segment settings, model monitoring).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cdp.config.destinations import DestinationConfig, SyncConfig
from cdp.config.engines import EnginesConfig
from cdp.config.policy import PolicyConfig
from cdp.config.rules import RulesConfig
from cdp.config.sources import SourceConfig
from cdp.errors import ConfigError

__all__ = ["Config", "WorkspaceSection", "load_config", "parse_config"]


class WorkspaceSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "workspace"
    timezone: str = "Europe/Istanbul"
    store_wait_seconds: float = 30.0


class Config(BaseModel):
    """The whole validated cdp.toml."""

    model_config = ConfigDict(extra="forbid")

    workspace: WorkspaceSection = Field(default_factory=WorkspaceSection)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    privacy: PolicyConfig = Field(default_factory=PolicyConfig)
    destinations: dict[str, DestinationConfig] = Field(default_factory=dict)
    syncs: dict[str, SyncConfig] = Field(default_factory=dict)
    engines: EnginesConfig = Field(default_factory=EnginesConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a dotted key path in TOML text."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return None
    lines = text.splitlines()
    best: int | None = None
    # find the deepest table header matching a prefix of the path, then the key below it
    for depth in range(len(parts), 0, -1):
        header = ".".join(parts[:depth])
        for i, raw in enumerate(lines, start=1):
            s = raw.strip()
            if s in (f"[{header}]", f"[[{header}]]"):
                best = i
                rest = parts[depth:]
                if rest:
                    key = rest[0]
                    for j in range(i, len(lines)):
                        t = lines[j].strip()
                        if j > i - 1 and t.startswith("[") and j != i - 1:
                            break
                        if t.split("=", 1)[0].strip() == key:
                            return j + 1
                return best
    key = parts[-1]
    for i, raw in enumerate(lines, start=1):
        if raw.strip().split("=", 1)[0].strip() == key:
            return i
    return best


def parse_config(text: str, file: str = "cdp.toml") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise ConfigError(f"not valid TOML: {getattr(exc, 'msg', exc)}", file=file, line=line) from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        key = ".".join(str(p) for p in loc)
        msg = err.get("msg", "invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        raise ConfigError(msg, key=key, file=file, line=_line_of(text, loc)) from exc


def load_config(path: Path) -> Config:
    if not path.exists():
        raise ConfigError("file not found", file=str(path), hint="run `cdp init` to create a workspace")
    return parse_config(path.read_text(encoding="utf-8"), file=str(path))

"""[engines.*]: where segments may run besides the embedded DuckDB (docs/scale.md).

```toml
[engines.postgres]
dsn_env = "CDP_PG_DSN"        # name of the environment variable holding the DSN (never the DSN)
schema = "cdp"                # schema the canonical pseudonymous tables are pushed to
stale_minutes = 0             # a build re-pushes when the last push is older (0 = whenever the store changed)

[engines.spark]
master = "local[2]"           # or spark://host:7077, yarn, k8s://...
export_dir = ".cdp/export"    # the Parquet export Spark reads (relative to the workspace)
options = { "spark.sql.shuffle.partitions" = "8" }
```

Secrets come only from the environment: a DSN written into cdp.toml is refused.
Without an ``[engines.postgres]`` section the DSN is read from ``CDP_PG_DSN``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_PG_DSN_ENV", "EnginesConfig", "PostgresEngineConfig", "SparkEngineConfig"]

DEFAULT_PG_DSN_ENV = "CDP_PG_DSN"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresEngineConfig(BaseModel):
    """``[engines.postgres]``: the DSN's environment variable and the target schema."""

    model_config = ConfigDict(extra="forbid")

    dsn_env: str = DEFAULT_PG_DSN_ENV
    schema_: str = Field(default="cdp", alias="schema")
    stale_minutes: float = Field(default=0.0, ge=0)

    @field_validator("dsn_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(
                "must be the NAME of an environment variable (e.g. CDP_PG_DSN); "
                "the DSN itself is a secret and never goes into cdp.toml"
            )
        return value

    @field_validator("schema_")
    @classmethod
    def _schema_name(cls, value: str) -> str:
        if not _SCHEMA.match(value):
            raise ValueError("must be a lower-case SQL identifier (letters, digits, _), at most 63 characters")
        return value


class SparkEngineConfig(BaseModel):
    """``[engines.spark]``: the Spark master, where the Parquet export lives, extra session options."""

    model_config = ConfigDict(extra="forbid")

    master: str = "local[2]"
    export_dir: str = ".cdp/export"
    app_name: str = "cdp"
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)


class EnginesConfig(BaseModel):
    """``[engines]``: optional PostgreSQL and Spark sections (DuckDB needs none)."""

    model_config = ConfigDict(extra="forbid")

    postgres: PostgresEngineConfig | None = None
    spark: SparkEngineConfig | None = None

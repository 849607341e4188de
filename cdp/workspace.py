"""The Python API: everything the CLI does goes through a :class:`Workspace`.

A workspace is a folder with ``cdp.toml``, ``segments/``, ``.cdp/`` (store, key store,
master key) and ``reports/``. Parts of the API live in service objects, one per area,
reached as attributes (``ws.segments``, ``ws.models``, ``ws.privacy``, ``ws.sync``,
``ws.reports``); each is imported only when first used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

    from cdp.config import Config

__all__ = ["Workspace"]

CONFIG_NAME = "cdp.toml"


class Workspace:
    """A CDP workspace on disk."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.init_info: dict[str, Any] = {}

    # -- locating -----------------------------------------------------------------
    @classmethod
    def find(cls, start: Path | str | None = None) -> Workspace:
        """The workspace at ``CDP_WORKSPACE``, or the nearest folder upwards with a cdp.toml."""
        env = os.environ.get("CDP_WORKSPACE")
        if env and start is None:
            return cls(env)
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).exists():
                return cls(folder)
        raise ConfigError(
            f"no {CONFIG_NAME} in {here} or any parent folder",
            hint="run `cdp init DIR` (or `cdp demo`) and cd into it, or set CDP_WORKSPACE",
        )

    # -- paths ----------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def state_dir(self) -> Path:
        return self.root / ".cdp"

    @property
    def store_path(self) -> Path:
        return self.state_dir / "store.duckdb"

    @property
    def keys_path(self) -> Path:
        return self.state_dir / "keys.duckdb"

    @property
    def segments_dir(self) -> Path:
        return self.root / "segments"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    # -- creating -------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path | str, *, name: str | None = None) -> Workspace:
        """Create (or complete) a workspace: cdp.toml, segments/, reports/, data/, .gitignore,
        .cdp/ with a migrated store, the key store and a 0600 master key unless
        ``CDP_MASTER_KEY`` is set. Existing files are kept. ``ws.init_info`` says what was
        created and where the master key comes from (the CLI prints the warning once)."""
        from cdp.ingest.template import CONFIG_TEMPLATE, GITIGNORE
        from cdp.store import open_store
        from privacy.keys import MASTER_KEY_ENV, KeyStore
        from privacy.pseudonym import Pseudonymizer

        ws = cls(root)
        created: list[str] = []
        ws.root.mkdir(parents=True, exist_ok=True)
        if not ws.config_path.exists():
            ws.config_path.write_text(CONFIG_TEMPLATE.format(name=name or ws.root.name), encoding="utf-8")
            created.append(CONFIG_NAME)
        for folder in (ws.segments_dir, ws.reports_dir, ws.root / "data"):
            if not folder.exists():
                folder.mkdir(parents=True)
                created.append(folder.name + "/")
        gitignore = ws.root / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text(GITIGNORE, encoding="utf-8")
            created.append(".gitignore")
        key_file = ws.state_dir / "master.key"
        had_key = key_file.exists() or bool(os.environ.get(MASTER_KEY_ENV))
        with KeyStore.open(ws.state_dir, create=True) as ks:
            Pseudonymizer.from_keystore(ks)     # create the pseudonym secrets now
            ks.signing_key()
            source = ks.master_source
        with open_store(ws.store_path) as con:
            from cdp.store import schema_version

            version = schema_version(con)
        if not had_key:
            created.append(".cdp/master.key")
        ws.init_info = {
            "root": str(ws.root),
            "created": created,
            "master_key": "environment (CDP_MASTER_KEY)" if source == "env" else str(key_file),
            "master_key_created": not had_key,
            "schema_version": version,
        }
        return ws

    def ingest(
        self, sources: list[str] | None = None, *, strict: bool = False, progress: Any = None
    ) -> Any:
        """Ingest the configured sources (all enabled ones by default) and return an
        :class:`cdp.ingest.IngestReport`. ``strict=True`` writes nothing when any row is
        rejected (:class:`cdp.errors.RejectedRowsError`). ``progress(source, phase, done,
        total)`` is called as rows are read and loaded."""
        from cdp.ingest import run_ingest

        return run_ingest(self, sources, strict=strict, progress=progress)

    def status(self) -> dict[str, Any]:
        """Counts, last ingest per source, store size, schema version and warnings (docs/cli.md)."""
        from cdp.ingest.status import workspace_status

        return workspace_status(self)

    # -- config and store ---------------------------------------------------------
    @cached_property
    def config(self) -> Config:
        from cdp.config import load_config

        return load_config(self.config_path)

    @property
    def timezone(self) -> str:
        return self.config.workspace.timezone

    @contextmanager
    def store(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the analytic store for one unit of work (closed on exit)."""
        from cdp.store import open_store

        wait = float(os.environ.get("CDP_STORE_WAIT", self.config.workspace.store_wait_seconds))
        with open_store(self.store_path, read_only=read_only, wait=wait) as con:
            yield con

    # -- services (one per area, imported lazily) ---------------------------------
    @cached_property
    def segments(self) -> Any:
        from cdp.segments.service import SegmentService

        return SegmentService(self)

    @cached_property
    def models(self) -> Any:
        from cdp.models.service import ModelService

        return ModelService(self)

    @cached_property
    def privacy(self) -> Any:
        from cdp.compliance.service import ComplianceService

        return ComplianceService(self)

    @cached_property
    def sync(self) -> Any:
        from cdp.sync.service import SyncService

        return SyncService(self)

    @cached_property
    def reports(self) -> Any:
        from cdp.reports.service import ReportService

        return ReportService(self)

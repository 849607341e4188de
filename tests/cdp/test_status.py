"""`Workspace.status()`: counts by type, last run per source, the foundation's own warnings."""

from __future__ import annotations

from cdp.workspace import Workspace

from .conftest import Dataset


def test_status_after_ingest(workspace: Workspace, dataset: Dataset) -> None:
    st = workspace.status()
    assert any("never been ingested" in w for w in st["warnings"])
    assert all(src["last_run"] is None for src in st["sources"].values())
    workspace.ingest(["customers", "events"])
    st = workspace.status()
    assert sum(st["events_by_type"].values()) == st["events"] == len(dataset.event_rows)
    assert st["identities_by_kind"]["email"] == len(dataset.people)
    run = st["sources"]["customers"]["last_run"]
    assert run["status"] == "ok" and run["rows_loaded"] == len(dataset.people)
    assert run["columns_dropped"] == ["internal_note"]
    assert st["sources"]["consents"]["last_run"] is None
    assert any("consents" in w and "never" in w for w in st["warnings"])
    assert st["last_ingest_at"] is not None

"""The plugin example of docs/destinations.md works through a real entry point."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from connectors.destinations import Batch, Contact, destination_class, destination_kinds
from tests.destinations.conftest import sealed_audience
from tests.fakes.base import FakeServer, Reply, Request

DOCS = Path(__file__).resolve().parents[2] / "docs" / "destinations.md"


class CrmFake(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.hashes: set[str] = set()

    def handle(self, req: Request) -> Reply:
        if req.headers.get("authorization") != "Bearer t0k":
            return Reply(401, {"error": "auth"})
        body = req.json()
        (self.hashes.update if body["op"] == "add" else self.hashes.difference_update)(body["hashes"])
        return Reply(200, {"accepted": len(body["hashes"])})


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Adding a destination"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]
    pkg = tmp_path / "cdp_crm_x"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(code, encoding="utf-8")
    dist = tmp_path / "cdp_crm_x-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cdp-crm-x\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[cdp.connectors]\ncrm_x = cdp_crm_x:CrmXDestination\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("cdp_crm_x", None)


def test_documented_plugin_loads_from_the_entry_point_and_syncs(plugin: None) -> None:
    assert "crm_x" in destination_kinds()
    cls = destination_class("crm_x")
    with CrmFake() as fake:
        dest = cls("crm", {"audience_id": "vip", "base_url": fake.url}, {"token": "t0k"})
        dest.begin(sealed_audience(["c1", "c2"]))
        people = [Contact("c1", email="A@x.com"), Contact("c2", email="b@x.com")]
        res = dest.send(Batch(sync="s", run_id=1, batch_no=1, op="add", members=people, key="k"))
        assert res.counts == {"accepted": 2} and len(fake.hashes) == 2
        gone = [Contact("c1", platform_key=dest.platform_key(people[0]))]
        dest.send(Batch(sync="s", run_id=1, batch_no=2, op="remove", members=gone, key="k2"))
        assert fake.hashes == {dest.platform_key(people[1])}

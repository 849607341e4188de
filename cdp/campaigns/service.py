"""`cdp campaign create|list|report`: campaigns measured against the segment's holdout."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from cdp.campaigns.measure import ALIKE_SMD, compare, outcomes
from cdp.errors import CDPError, NotFoundError
from cdp.segments.asof import parse_as_of

if TYPE_CHECKING:
    from cdp.workspace import Workspace

__all__ = ["CampaignService"]


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise CDPError(f"not a date: {value!s}", hint="use YYYY-MM-DD") from exc


class CampaignService:
    """Campaign definitions and their treatment-versus-control reports."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # -- definitions ------------------------------------------------------------------
    def create(
        self,
        name: str,
        segment: str,
        start: date | str,
        end: date | str,
        outcome: str = "purchase",
        sync: str | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        start_d, end_d = _as_date(start), _as_date(end)
        if end_d < start_d:
            raise CDPError(f"campaign '{name}' ends ({end_d}) before it starts ({start_d})")
        if sync is not None and sync not in self.ws.config.syncs:
            raise NotFoundError("sync", sync, hint="syncs are declared under [syncs.NAME] in cdp.toml")
        with self.ws.store() as con:
            if con.execute("SELECT 1 FROM campaigns WHERE name = ?", [name]).fetchone():
                raise CDPError(f"a campaign named '{name}' exists already", hint="choose another name")
            con.execute(
                "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [name, segment, start_d, end_d, outcome, sync, purpose],
            )
        return {"name": name, "segment": segment, "start": start_d, "end": end_d, "outcome": outcome, "sync": sync}

    def list(self) -> list[dict[str, Any]]:
        with self.ws.store() as con:
            rows = con.execute(
                "SELECT name, segment, start_date, end_date, outcome, sync FROM campaigns ORDER BY start_date, name"
            ).fetchall()
        keys = ("name", "segment", "start", "end", "outcome", "sync")
        return [dict(zip(keys, r)) for r in rows]

    # -- measurement -----------------------------------------------------------------
    def _terms(self, name: str, sync: str | None) -> tuple[Any, Any, str | None]:
        """(destination terms, policy, sync purpose) for the gate."""
        compliance = self.ws.privacy
        policy = compliance.policy()
        if sync is None:
            from privacy.policy import DestinationTerms

            return DestinationTerms(name=f"campaign:{name}", kind="file", channel=None, country="TR",
                                    transfer=None, min_audience_size=None), policy, None
        cfg = self.ws.config.syncs[sync]
        return compliance.destination_terms(cfg.destination), policy, cfg.purpose

    def report(self, name: str) -> dict[str, Any]:
        """Treatment versus control for campaign ``name`` (see cdp.campaigns.measure)."""
        with self.ws.store() as con:
            return self.report_on(con, name)

    def report_on(self, con: Any, name: str) -> dict[str, Any]:
        """The same, on a store connection the caller holds (used by the HTML report)."""
        from privacy import gate

        row = con.execute(
            "SELECT segment, start_date, end_date, outcome, sync, purpose FROM campaigns WHERE name = ?", [name]
        ).fetchone()
        if row is None:
            known = [r[0] for r in con.execute("SELECT name FROM campaigns").fetchall()]
            import difflib

            near = difflib.get_close_matches(name, known, n=1)
            raise NotFoundError("campaign", name, suggestion=near[0] if near else None,
                                hint="`cdp campaign create NAME --segment S --start D --end D` defines one")
        segment, start, end, outcome, sync, purpose = row
        start_at = datetime(start.year, start.month, start.day)
        build = con.execute(
            "SELECT build_id, as_of, purposes FROM segment_builds WHERE segment = ? AND as_of <= ? "
            "ORDER BY as_of DESC, build_id DESC LIMIT 1",
            [segment, start_at],
        ).fetchone()
        if build is None:
            raise NotFoundError(
                "build of segment", segment,
                hint=f"build it at the campaign start: cdp segment build {segment} --as-of {start}",
            )
        build_id, build_as_of, declared = build
        terms, policy, sync_purpose = self._terms(name, sync)
        purpose = purpose or sync_purpose or (list(declared)[0] if declared else None)
        if purpose is None:
            raise CDPError(
                f"segment '{segment}' declares no purpose, so no campaign can be sent to it",
                hint=f"add `purpose email_marketing` (or another) to segment {segment}",
            )
        at_utc = parse_as_of(start_at, self.ws.timezone).utc
        assessed = gate.assess(con, build_id, terms, purpose, at_utc, policy)
        ids = assessed.column("customer_id").to_pylist()
        control = assessed.column("control").to_pylist()
        reasons = assessed.column("reason").to_pylist()
        sizes = {
            "treatment_before": sum(1 for c in control if not c),
            "control_before": sum(1 for c in control if c),
        }
        keep_ids, treated = [], []
        excluded: dict[str, dict[str, int]] = {"treatment": {}, "control": {}}
        for cid, is_control, reason in zip(ids, control, reasons):
            side = "control" if is_control else "treatment"
            if reason is None:
                keep_ids.append(cid)
                treated.append(not is_control)
            else:
                excluded[side][reason] = excluded[side].get(reason, 0) + 1
        con.register("_campaign_groups", pa.table({"customer_id": keep_ids, "treated": treated}))
        con.execute("CREATE OR REPLACE TEMP TABLE _cg AS SELECT * FROM _campaign_groups")
        con.unregister("_campaign_groups")
        during = outcomes(con, "_cg", outcome, start, end)
        length = (end - start).days + 1
        pre_end = date.fromordinal(start.toordinal() - 1)
        pre_start = date.fromordinal(start.toordinal() - length)
        before = outcomes(con, "_cg", outcome, pre_start, pre_end)
        con.execute("DROP TABLE IF EXISTS _cg")

        result = compare(during)
        pre = compare(before)
        smd = pre["standardized_difference"]
        alike = all(v is None or abs(v) < ALIKE_SMD for v in smd.values())
        rate = result["response_rate"]["difference"]
        significant = rate["low"] is not None and (rate["low"] > 0 or rate["high"] < 0)
        money = result["revenue_per_member"]["difference"]
        money_sig = money["low"] is not None and (money["low"] > 0 or money["high"] < 0)
        if significant or money_sig:
            verdict = "uplift" if (rate["estimate"] or 0) > 0 or (money["estimate"] or 0) > 0 else "negative"
        else:
            verdict = "no_significant_difference"
        return {
            "campaign": name,
            "segment": segment,
            "build_id": build_id,
            "build_as_of": build_as_of,
            "purpose": purpose,
            "sync": sync,
            "window": {"start": start, "end": end, "outcome": outcome},
            "groups": {
                **sizes,
                "treatment_after": result["treatment"]["members"],
                "control_after": result["control"]["members"],
                "excluded": excluded,
            },
            **result,
            "pre_period": {"start": pre_start, "end": pre_end, **pre, "groups_alike": alike},
            "verdict": verdict,
        }

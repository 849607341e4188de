"""`cdp report`, `cdp segment profile`, `cdp segment transitions`: aggregates for people.

The HTML report is one self-contained file (inline CSS and SVG, no script, no CDN) in English
or Turkish. It shows pseudonymous aggregates only, and every customer count between 1 and
``min_cell - 1`` as "<min_cell" (default 10, `[rules] report_min_cell`), since reports travel
further than the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.reports import page as P
from cdp.reports import sections as S
from cdp.reports import svg
from cdp.reports.i18n import LANGS, t
from cdp.reports.small import DEFAULT_MIN_CELL, shown, suppressed
from cdp.reports.transitions import NONE, Transitions, resolve_point, transitions

if TYPE_CHECKING:
    from cdp.workspace import Workspace

__all__ = ["ReportService"]

_MAX_LINES = 8   # series in the sizes-over-time chart: the largest segments


class ReportService:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _as_of(self, value: Any) -> Any:
        from cdp.segments.asof import parse_as_of

        return parse_as_of(value, self.ws.timezone)

    def min_cell(self) -> int:
        return int(getattr(self.ws.config.rules, "report_min_cell", DEFAULT_MIN_CELL) or DEFAULT_MIN_CELL)

    # -- profile and transitions --------------------------------------------------------
    def profile(self, segment: str, as_of: Any = None) -> dict[str, Any]:
        from cdp.reports.profile import segment_profile

        when = self._as_of(as_of)
        with self.ws.store() as con:
            return segment_profile(con, segment, when.local, when.utc)

    def transitions(
        self, segments: list[str] | None = None, from_point: str | None = None, to_point: str | None = None
    ) -> Transitions:
        with self.ws.store() as con:
            a = resolve_point(con, from_point, which="from")
            b = resolve_point(con, to_point, which="to")
            if not segments:
                segments = self.transition_segments(con)
            return transitions(con, segments, a, b)

    # -- the HTML report -----------------------------------------------------------------
    def html(self, out: Path | None = None, *, lang: str = "en", as_of: Any = None, progress: Any = None) -> dict[str, Any]:
        if lang not in LANGS:
            from cdp.errors import CDPError

            raise CDPError(f"unknown report language '{lang}'", hint="use --lang en or --lang tr")
        when = self._as_of(as_of)
        out = Path(out) if out else self.ws.reports_dir / f"report-{when.local:%Y%m%d}-{lang}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        m = self.min_cell()
        steps = ["overview", "segments", "rfm", "clusters", "transitions", "campaigns", "consent", "syncs"]
        parts: list[str] = []
        with self.ws.store() as con:
            for step in steps:
                if progress:
                    progress(step)
                parts.append(getattr(self, f"_sec_{step}")(con, when, lang, m))
        subtitle = f"{self.ws.config.workspace.name} · {t(lang, 'as_of')} {when.local:%Y-%m-%d %H:%M}"
        footer = t(lang, "small_cells", n=m) + " " + t(lang, "privacy_note")
        text = P.page(lang=lang, title=t(lang, "title"), subtitle=subtitle, sections=parts, footer=footer)
        out.write_text(text, encoding="utf-8")
        return {"path": str(out), "bytes": len(text.encode("utf-8")), "sections": steps, "lang": lang}

    # one method per section: (con, when, lang, min_cell) -> html
    def _sec_overview(self, con: Any, when: Any, lang: str, m: int) -> str:
        o = S.overview(con, when.local)
        body = P.kpis([
            (t(lang, "customers"), shown(o["customers"], m)),
            (t(lang, "events"), f"{o['events']:,}".replace(",", " ")),
            (t(lang, "buyers_12m"), shown(o["buyers_12m"], m)),
            (t(lang, "revenue_12m"), f"{o['revenue_12m']:,.0f} ₺".replace(",", " ")),
            (t(lang, "consent_events"), f"{o['consent_events']:,}".replace(",", " ")),
        ])
        return P.section("overview", t(lang, "overview"), body)

    def _sec_segments(self, con: Any, when: Any, lang: str, m: int) -> str:
        latest = S.latest_segments(con, when.local)
        total = con.execute("SELECT count(*) FROM customers").fetchone()[0] or 1
        rows = [
            (s["segment"], shown(s["members"], m), shown(s["control"], m),
             "–" if suppressed(s["members"], m) else f"{100 * s['members'] / total:.1f}%", f"{s['as_of']:%Y-%m-%d}")
            for s in latest
        ]
        bars = [
            (s["segment"], None if suppressed(s["members"], m) else s["members"], shown(s["members"], m)) for s in latest
        ]
        largest = [s["segment"] for s in latest[:_MAX_LINES]]
        full = S.size_history(con, when.local)
        history = {seg: [(d, v) for d, v in full.get(seg, []) if not suppressed(v, m)] for seg in largest}
        body = (
            P.table([t(lang, "segment"), t(lang, "members"), t(lang, "control"), t(lang, "share"), t(lang, "last_build")], rows)
            + svg.bar_chart(bars, title=t(lang, "segment_sizes"), empty_note=t(lang, "no_data"))
            + f"<h3>{P.esc(t(lang, 'sizes_over_time'))}</h3>"
            + svg.line_chart({k: v for k, v in history.items() if v}, title=t(lang, "sizes_over_time"),
                             empty_note=t(lang, "no_data"))
        )
        return P.section("segments", t(lang, "segments"), body)

    def _sec_rfm(self, con: Any, when: Any, lang: str, m: int) -> str:
        grid = self._rfm_grid(con, when)
        rows = ["5", "4", "3", "2", "1"]
        cols = ["1", "2", "3", "4", "5"]
        cells = {}
        for (r, f), n in (grid or {}).items():
            cells[(str(r), str(f))] = (None if suppressed(n, m) else n, shown(n, m))
        body = svg.heatmap(rows, cols, cells, title=t(lang, "rfm_grid"), row_title="R", col_title="F",
                           empty_note=t(lang, "no_data"))
        return P.section("rfm", t(lang, "rfm_grid"), body)

    def _rfm_grid(self, con: Any, when: Any) -> dict[tuple[int, int], int] | None:
        """Customers per (R, F) score at ``when``, through the rule compiler (DSL.md's exact RFM)."""
        from cdp.reports.rfm import rfm_grid

        return rfm_grid(self.ws, con, when)

    def _sec_clusters(self, con: Any, when: Any, lang: str, m: int) -> str:
        from cdp.reports.clusters import cluster_sections

        return P.section("clusters", t(lang, "clusters"), cluster_sections(self.ws, con, when, lang, m))

    def transition_segments(self, con: Any, when: Any = None) -> list[str]:
        """`[rules] report_transitions` (e.g. the value tiers, best first), else a greedy set of
        non-overlapping segments of the latest builds, largest first."""
        configured = list(getattr(self.ws.config.rules, "report_transitions", None) or [])
        if configured:
            return configured
        return S.disjoint_segments(con, S.latest_segments(con, when.local if when else None))

    def _sec_transitions(self, con: Any, when: Any, lang: str, m: int) -> str:
        tr = S.transition_matrix(con, self.transition_segments(con, when), when.local)
        if tr is None:
            return P.section("transitions", t(lang, "transitions"), f'<p class="note">{P.esc(t(lang, "no_data"))}</p>')
        labels = [*tr.segments, NONE]
        shown_labels = [t(lang, "none_segment") if x == NONE else x for x in labels]
        cells = {}
        for (a, b), n in tr.matrix.items():
            cells[(shown_labels[labels.index(a)], shown_labels[labels.index(b)])] = (
                None if suppressed(n, m) else n, shown(n, m))
        title = f"{t(lang, 'transitions')}: {tr.from_as_of:%Y-%m-%d} → {tr.to_as_of:%Y-%m-%d}"
        body = svg.heatmap(shown_labels, shown_labels, cells, title=title, cell=64,
                           row_title=t(lang, "from"), col_title=t(lang, "to"), empty_note=t(lang, "no_data"))
        return P.section("transitions", title, body)

    def _sec_campaigns(self, con: Any, when: Any, lang: str, m: int) -> str:
        names = [r[0] for r in con.execute("SELECT name FROM campaigns ORDER BY start_date, name").fetchall()]
        if not names:
            return P.section("campaigns", t(lang, "campaigns"), f'<p class="note">{P.esc(t(lang, "no_data"))}</p>')
        from cdp.campaigns.service import CampaignService

        svc = CampaignService(self.ws)
        blocks = [self._campaign_block(svc.report_on(con, n), lang, m) for n in names]
        return P.section("campaigns", t(lang, "campaigns"), "".join(blocks))

    def _campaign_block(self, r: dict[str, Any], lang: str, m: int) -> str:
        rate = r["response_rate"]
        money = r["revenue_per_member"]
        def pct(v: Any) -> str:
            return "–" if v is None else f"{100 * v:.1f}%"
        def num(v: Any) -> str:
            return "–" if v is None else f"{v:,.2f}".replace(",", " ")
        d = rate["difference"]
        md = money["difference"]
        inc = r["incremental_revenue"] or {}
        rows = [
            (t(lang, "members"), shown(r["treatment"]["members"], m), shown(r["control"]["members"], m), "", ""),
            (t(lang, "response_rate"), pct(rate["rate_t"]["estimate"]), pct(rate["rate_c"]["estimate"]),
             f"{pct(d['estimate'])} [{pct(d['low'])}, {pct(d['high'])}]", num(rate["p_value"])),
            (t(lang, "revenue_per_member"), num(money["mean_t"]), num(money["mean_c"]),
             f"{num(md['estimate'])} [{num(md['low'])}, {num(md['high'])}]", num(money["p_value"])),
            (t(lang, "incremental_revenue"), "", "",
             f"{num(inc.get('estimate'))} [{num(inc.get('low'))}, {num(inc.get('high'))}]", ""),
        ]
        verdict = t(lang, "significant") if r["verdict"] != "no_significant_difference" else t(lang, "not_significant")
        chart = svg.interval_chart(
            [(t(lang, "response_rate"), d["estimate"], d["low"], d["high"])], title=f"{r['campaign']}: {t(lang, 'uplift')}",
            empty_note=t(lang, "no_data"),
        )
        return (
            f"<h3>{P.esc(r['campaign'])} · {P.esc(r['segment'])} · {r['window']['start']} → {r['window']['end']}</h3>"
            + P.table(["", t(lang, "treatment"), t(lang, "control"), f"{t(lang, 'uplift')} ({t(lang, 'ci95')})",
                       t(lang, "p_value")], rows)
            + f'<p class="verdict">{P.esc(verdict)}</p>' + chart
        )

    def _sec_consent(self, con: Any, when: Any, lang: str, m: int) -> str:
        rows = S.consent_coverage(con, when.utc)
        table_rows = [(r["purpose"], r["channel"], shown(r["granted"], m), shown(r["withdrawn"], m), shown(r["no_record"], m))
                      for r in rows]
        bars = [(f"{r['purpose']} / {r['channel']}", None if suppressed(r["granted"], m) else r["granted"],
                 shown(r["granted"], m)) for r in rows]
        body = P.table([t(lang, "purpose"), t(lang, "channel"), t(lang, "granted"), t(lang, "withdrawn"),
                        t(lang, "no_record")], table_rows) + svg.bar_chart(
            bars, title=t(lang, "consent_coverage"), empty_note=t(lang, "no_data"))
        return P.section("consent", t(lang, "consent_coverage"), body)

    def _sec_syncs(self, con: Any, when: Any, lang: str, m: int) -> str:
        rows = []
        for s in S.last_syncs(con):
            ex = ", ".join(f"{k}: {shown(v, m)}" for k, v in sorted(s["exclusions"].items()))
            rows.append((s["sync"], s["destination"], s["segment"], s["status"] + (" (dry run)" if s["dry_run"] else ""),
                         shown(s["adds"], m), shown(s["removes"], m), ex))
        if not rows:
            return P.section("syncs", t(lang, "syncs"), f'<p class="note">{P.esc(t(lang, "no_data"))}</p>')
        body = P.table([t(lang, "sync"), t(lang, "destination"), t(lang, "segment"), t(lang, "status"), t(lang, "adds"),
                        t(lang, "removes"), t(lang, "exclusions")], rows)
        return P.section("syncs", t(lang, "syncs"), body)

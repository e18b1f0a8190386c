"""The monthly report: one self-contained HTML file with the charts embedded, to email.

Plotly's script is included once, inline, so the file opens offline in any browser. The same
report is written by the command line (`report`, `mail`) as HTML or as the Excel scorecard;
an agent's own report holds only their own numbers, built from a card cut to that agent.
"""

from __future__ import annotations

import html
from pathlib import Path

from lib.auth import access
from lib.core.i18n import t
from lib.core.periods import Period
from lib.metrics import schemes
from lib.metrics.scoring import Scorecard, scorecard
from lib.present import charts, export, views

FORMATS = (".html", ".xlsx")


def card_for(con, viewer: access.Viewer, period: Period, scheme_name: str | None = None,
             team: str | None = None) -> Scorecard:  # fmt: skip
    """The scorecard the report shows: the scheme in force at the period's end."""
    scheme = schemes.resolve(con, scheme_name, period.end)
    return scorecard(con, scheme, period, viewer=viewer, team=team)


def write(con, viewer: access.Viewer, card: Scorecard, team: str | None, lang: str,
          out: str | Path) -> Path:  # fmt: skip
    """Write the report to FILE.html (the page's monthly report) or FILE.xlsx (the scorecard)."""

    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"--out must end with .html or .xlsx, not '{path.name}'")
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(export.xlsx_bytes(card, lang))
    elif viewer.is_agent:
        path.write_text(agent_html(card, viewer.agent, lang), encoding="utf-8")
    else:
        path.write_text(monthly_html(con, viewer, card, team, lang), encoding="utf-8")
    return path


def agent_html(card: Scorecard, agent: str, lang: str) -> str:
    """One agent's own scorecard as a small HTML page: no other agent's name or numbers.
    `card` must already be cut to the agent (scoring.restrict)."""
    others = set(card.agents["agent"]) - {agent}
    if others:  # a guard, not a filter: the caller must pass the agent's own card
        raise ValueError("the card holds other agents' rows; cut it to the agent first")
    title = t("report.agent_title", lang, period=card.period.label, agent=agent)
    rows = card.agents[card.agents["agent"] == agent]
    if rows.empty or rows.iloc[0]["composite"] != rows.iloc[0]["composite"]:
        summary = t("report.agent_not_scored", lang)
    else:
        r = rows.iloc[0]
        grades = {g.code: g.label(lang) for g in card.scheme.grades}
        summary = t("report.agent_summary", lang, score=f"{r['composite']:.1f}",
                    grade=grades.get(r["grade"], r["grade"] or "–"),
                    rank="–" if r["rank"] != r["rank"] else int(r["rank"]), peers=card.ranked)  # fmt: skip
    breakdown = views.agent_breakdown(card, agent, lang)
    body = "".join(
        f"<tr><td>{html.escape(str(b.label))}</td><td>{html.escape(str(b.shown))}</td>"
        f"<td>{'' if b.score != b.score else f'{b.score:.1f}'}</td>"
        f"<td>{html.escape(str(b.status))}</td></tr>"
        for b in breakdown.itertuples()
    )
    heads = "".join(f"<th>{html.escape(t(k, lang))}</th>"
                    for k in ("report.kpi", "report.value", "report.score", "report.status"))  # fmt: skip
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{html.escape(title)}</title></head><body style="font-family:system-ui,sans-serif">
<h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>
<table><tr>{heads}</tr>{body}</table></body></html>"""


def monthly_html(con, viewer: access.Viewer, card: Scorecard, team: str | None, lang: str) -> str:
    head = views.headline(con, viewer, card, team, lang)
    previous = scorecard(con, card.scheme, card.period.previous(), viewer=viewer, team=team)
    board = views.leaderboard(card, lang, previous)
    figures = [
        charts.grade_distribution(views.grade_counts(card, lang), t("overview.grades", lang)),
        charts.leaderboard(board, t("overview.leaderboard_chart", lang)),
    ]
    parts = [fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
             for i, fig in enumerate(figures)]  # fmt: skip
    title = t("report.title", lang, period=card.period.label)
    kpi_rows = "".join(
        f"<tr><td>{html.escape(r.label)}</td><td>{html.escape(r.shown)}</td>"
        f"<td>{html.escape(r.previous_shown)}</td><td>{html.escape(r.change_shown)}</td></tr>"
        for r in head.itertuples()
    )
    board_table = board.rename(columns={c: t(f"board.{c}", lang) for c in board.columns}).to_html(
        index=False, na_rep="", escape=True, border=0
    )
    context = t("overview.context", lang, period=card.period.label,
                team=team or t("sidebar.all_teams", lang), scheme=card.scheme.label(lang),
                version=schemes.in_force_words(card.scheme, lang))  # fmt: skip
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:1100px;margin:2em auto;color:#0f172a}}
table{{border-collapse:collapse;width:100%;margin:1em 0}}td,th{{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left}}
.grid{{display:grid;grid-template-columns:1fr 1fr;gap:1em}}</style></head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(context)}</p>
<h2>{html.escape(t("report.kpis", lang))}</h2>
<table><tr><th>{html.escape(t("report.kpi", lang))}</th><th>{html.escape(card.period.label)}</th>
<th>{html.escape(card.period.previous().label)}</th><th>{html.escape(t("report.change", lang))}</th></tr>{kpi_rows}</table>
<div class="grid">{"".join(f"<div>{p}</div>" for p in parts)}</div>
<h2>{html.escape(t("overview.leaderboard", lang))}</h2>{board_table}
<p>{html.escape(t("overview.leaderboard_help", lang))}</p>
</body></html>"""

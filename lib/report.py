"""The monthly report: one self-contained HTML file with the charts embedded, to email.

Plotly's script is included once, inline, so the file opens offline in any browser.
"""

from __future__ import annotations

import html

from lib import access, charts, views
from lib.i18n import t
from lib.scoring import Scorecard, scorecard


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
                version=card.scheme.version or "–")  # fmt: skip
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

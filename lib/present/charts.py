"""Plotly figures for the pages and the HTML report; plain functions of tables from lib.present.views.

No figure reads the store: each takes the rows it draws, so the same figure serves the app
and the emailed report. Names and labels come from uploads, so every figure leaves through
`lib.core.textsafe.figure`, which escapes them: Plotly would otherwise render `<a href>` in them.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from lib.core import textsafe

COLOURS = {"A": "#16a34a", "B": "#2563eb", "C": "#f59e0b", "D": "#dc2626"}
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=320)
TEMPLATE = "plotly_white"  # every figure's look, set by `_text_safe`
DATES = "%Y-%m-%d"  # dates as numbers, the same in either language (no English month names)


def percent_format(values) -> str:
    """A tick format for shares that tells neighbouring ticks apart: 90% over a wide range,
    90.4% over a narrow one (where every tick would otherwise read 90%)."""
    v = pd.Series(values, dtype="float64").dropna()
    span = (v.max() - v.min()) * 100 if len(v) else 100
    digits = 0 if span >= 5 else 1 if span >= 0.5 else 2
    return f".{digits}%"


def _value_axis(fig: go.Figure, values, percent: bool, title: str) -> None:
    fig.update_yaxes(title_text=title or None)
    if percent:
        fig.update_yaxes(tickformat=percent_format(values), hoverformat=".1%")


def _themed(fig: go.Figure) -> go.Figure:
    """The figure in the shared template. Plotly checks a template given by name, property by
    property, each time (about 15 ms a figure, more than building most of these figures); the
    registered one is checked already, so it is set as Plotly sets its own default template."""
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[TEMPLATE]
    finally:
        layout._validate = True
    return fig


def _text_safe(make):
    """Every figure leaves through here: in the shared template, its data-borne text escaped."""

    @functools.wraps(make)
    def wrapper(*args, **kwargs) -> go.Figure:
        return textsafe.figure(_themed(make(*args, **kwargs)))

    return wrapper


@_text_safe
def grade_distribution(counts: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(
        x=counts["label"], y=counts["agents"], text=counts["agents"], textposition="auto",
        marker_color=[COLOURS.get(g, "#64748b") for g in counts["grade"]],
    ))  # fmt: skip
    return fig.update_layout(title=title, **LAYOUT)


@_text_safe
def reviewer_bias(bias: pd.DataFrame, flag: float, labels: dict[str, str], yes: str,
                  no: str) -> go.Figure:  # fmt: skip
    """Each reviewer's mean difference from the group, red when flagged, with the ±flag lines.
    `labels` names the reviewer, bias and flagged columns; yes/no say whether one is flagged."""
    flagged = bias["flagged"].map({True: yes, False: no})
    fig = go.Figure(go.Bar(
        x=bias["reviewer"], y=bias["bias"], customdata=flagged,
        marker_color=["#d62728" if f else "#1f77b4" for f in bias["flagged"]],
        hovertemplate=(f"{labels['reviewer']}=%{{x}}<br>{labels['bias']}=%{{y:+.1f}}<br>"
                       f"{labels['flagged']}=%{{customdata}}<extra></extra>"),
    ))  # fmt: skip
    for y in (flag, -flag):
        fig.add_hline(y=y, line_dash="dot")
    return fig.update_layout(**{**LAYOUT, "height": 320, "margin": dict(t=20, b=10)},
                             showlegend=False, xaxis_title=labels["reviewer"],
                             yaxis_title=labels["bias"])  # fmt: skip


@_text_safe
def leaderboard(board: pd.DataFrame, title: str) -> go.Figure:
    """Scores with their intervals: overlapping bars mean the order is not certain."""
    b = board.dropna(subset=["score"]).iloc[::-1]
    fig = go.Figure(go.Scatter(
        x=b["score"], y=b["agent"], mode="markers",
        error_x=dict(type="data", symmetric=False, array=b["high"] - b["score"],
                     arrayminus=b["score"] - b["low"], thickness=1.2),
        marker=dict(size=9, color="#2563eb"),
        hovertemplate="%{y}: %{x:.1f}<extra></extra>",
    ))  # fmt: skip
    layout = {**LAYOUT, "height": max(320, 22 * len(b) + 80)}
    return fig.update_layout(title=title, xaxis=dict(range=[0, 100]), **layout)


@_text_safe
def trend(rows: pd.DataFrame, title: str, percent: bool = False, empty: str = "",
          y_title: str = "") -> go.Figure:  # fmt: skip
    """Lines per series over time, the value axis titled with its unit and dates written as
    numbers; with no rows, an empty chart that says `empty`."""
    fig = go.Figure()
    if rows.empty and empty:
        fig.add_annotation(text=empty, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    for series, part in rows.groupby("series", sort=False):
        fig.add_trace(
            go.Scatter(x=part["bucket"], y=part["value"], mode="lines+markers", name=str(series))
        )
    fig.update_layout(title=title, **LAYOUT)
    fig.update_xaxes(tickformat=DATES, hoverformat=DATES)
    _value_axis(fig, rows["value"] if "value" in rows else [], percent, y_title)
    return fig


@_text_safe
def radar(dims: pd.DataFrame, agent_name: str, team_name: str, title: str) -> go.Figure:
    """Dimension scores against the team median; with fewer than three dimensions (a radar
    would collapse to a line) grouped bars instead."""
    if len(dims) < 3:
        fig = go.Figure(go.Bar(x=dims["label"], y=dims["team_median"], name=team_name, opacity=0.5))
        if "agent" in dims:
            fig.add_trace(go.Bar(x=dims["label"], y=dims["agent"], name=agent_name))
        fig.update_yaxes(range=[0, 100])
        return fig.update_layout(title=title, barmode="group", **LAYOUT)
    theta = list(dims["label"]) + [dims["label"].iloc[0]]
    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(r=list(dims["team_median"]) + [dims["team_median"].iloc[0]],
                                  theta=theta, name=team_name, fill="toself", opacity=0.35))  # fmt: skip
    if "agent" in dims:
        fig.add_trace(go.Scatterpolar(r=list(dims["agent"]) + [dims["agent"].iloc[0]],
                                      theta=theta, name=agent_name, fill="toself", opacity=0.6))  # fmt: skip
    return fig.update_layout(title=title, polar=dict(radialaxis=dict(range=[0, 100])), **LAYOUT)


@_text_safe
def kpi_bars(breakdown: pd.DataFrame, title: str) -> go.Figure:
    """Each KPI's score 0–100 with its value, floor and target in the hover text."""
    b = breakdown.iloc[::-1]
    colour = ["#16a34a" if s >= 80 else "#f59e0b" if s >= 60 else "#dc2626" if pd.notna(s) else "#cbd5e1"
              for s in b["score"]]  # fmt: skip
    fig = go.Figure(go.Bar(
        x=b["score"].fillna(0), y=b["label"], orientation="h", marker_color=colour,
        text=[f"{v}  ({c:+.1f})" if pd.notna(s) else f"{v}  ({st})"
              for v, c, s, st in zip(b["shown"], b["contribution"], b["score"], b["status"])],
        textposition="outside",
        customdata=list(zip(b["floor_shown"], b["target_shown"], b["interval"])),
        hovertemplate="%{y}: %{x:.0f}<br>0 = %{customdata[0]}, 100 = %{customdata[1]}"
                      "<br>95%: %{customdata[2]}<extra></extra>",
    ))  # fmt: skip
    layout = {**LAYOUT, "height": max(320, 30 * len(b) + 80)}
    return fig.update_layout(title=title, xaxis=dict(range=[0, 125]), **layout)


@_text_safe
def channel_bars(
    rows: pd.DataFrame, title: str, percent: bool = False, y_title: str = ""
) -> go.Figure:
    """One KPI per channel, each bar labelled with its value as people read it; the value
    axis titled with the KPI and its unit."""
    fig = go.Figure(
        go.Bar(x=rows["channel"], y=rows["value"], text=rows["shown"], textposition="auto")
    )
    _value_axis(fig, rows["value"], percent, y_title)
    if percent:  # bars start at 0: ticks over the whole range
        fig.update_yaxes(tickformat=percent_format([0, rows["value"].max()]))
    return fig.update_layout(title=title, **LAYOUT)


@_text_safe
def plan_trend(rows: pd.DataFrame, title: str, percent: bool, baseline: float | None,
               target: float, start, labels: dict) -> go.Figure:  # fmt: skip
    """A plan's KPI over time (agent and team) with the baseline, the target and the start."""
    fig = trend.__wrapped__(rows, title, percent, y_title=labels.get("axis", ""))  # escaped once
    if baseline is not None and baseline == baseline:
        fig.add_hline(y=baseline, line_dash="dot", annotation_text=labels["baseline"])
    fig.add_hline(y=target, line_dash="dash", line_color="green", annotation_text=labels["target"])
    fig.add_vline(x=pd.Timestamp(start).timestamp() * 1000, line_dash="dash", line_color="grey")
    fig.add_annotation(x=pd.Timestamp(start), y=1, yref="paper", text=labels["start"],
                       showarrow=False, xanchor="left")  # fmt: skip
    return fig


@_text_safe
def hourly_load(rows: pd.DataFrame, title: str, median_label: str) -> go.Figure:
    """Tickets per hour of the day: each agent's mean as a faint line, the team's median bold."""
    fig = go.Figure()
    for agent, part in rows.groupby("agent"):
        fig.add_trace(go.Scatter(x=part["hour"], y=part["tickets"], mode="lines", name=str(agent),
                                 line=dict(width=1), opacity=0.35))  # fmt: skip
    median = rows.groupby("hour")["tickets"].median().reset_index()
    fig.add_trace(go.Scatter(x=median["hour"], y=median["tickets"], mode="lines+markers", name=median_label,
                             line=dict(width=4, color="black")))  # fmt: skip
    return fig.update_layout(title=title, xaxis=dict(dtick=2), **LAYOUT)


@_text_safe
def rank_moves(
    ranking: pd.DataFrame, title: str, saved: str, edited: str, movers: set[str] | None = None
) -> go.Figure:
    """A slope chart a room can read from a projector: each agent's rank with the saved weights
    on the left and with the edited ones on the right; the biggest movers drawn strong and
    named. One trace for the others and one for the movers (each agent's line a segment
    between gaps), so a team of hundreds draws as fast as a team of ten."""
    movers = movers or set()
    r = ranking.dropna(subset=["rank", "saved_rank"])
    fig = go.Figure()
    for strong in (False, True):  # the movers last, drawn on top
        part = r[r["agent"].isin(movers) == strong]
        if part.empty:
            continue
        n, colour = len(part), "#dc2626" if strong else "#94a3b8"
        names = np.repeat(part["agent"].astype(str).to_numpy(), 3)
        gap = [None] * n
        fig.add_trace(go.Scatter(
            x=[saved, edited, None] * n,
            y=np.column_stack([part["saved_rank"], part["rank"], gap]).ravel().tolist(),
            customdata=names, mode="lines+markers+text" if strong else "lines+markers",
            text=[name if i % 3 == 1 else "" for i, name in enumerate(names)] if strong else None,
            textposition="middle right", line=dict(width=3 if strong else 1, color=colour),
            marker=dict(color=colour), hovertemplate="%{customdata}: %{y}<extra></extra>",
            showlegend=False, cliponaxis=False,
        ))  # fmt: skip
    # Room on the right for the movers' names, written after their edited rank.
    layout = {
        **LAYOUT,
        "height": max(320, 14 * len(r) + 80),
        "margin": dict(l=10, r=120, t=40, b=10),
    }
    fig.update_yaxes(autorange="reversed", title_text="#", dtick=max(1, len(r) // 10))
    return fig.update_layout(title=title, **layout)


@_text_safe
def peer_benchmarks(
    rows: pd.DataFrame, title: str, ours: str, average: str, best: str, second: str = "s"
) -> go.Figure:
    """One small panel per KPI: our value as a bar, the platform's 同行同层均值 and 同行同层优秀 as
    reference lines (rates in %, times in seconds as the platform gives them, `second` the unit
    word on their axis: 秒 on a Chinese page)."""
    n = max(len(rows), 1)
    fig = make_subplots(rows=n, cols=1, subplot_titles=list(rows["label"]) or [""],
                        vertical_spacing=min(0.25, 0.6 / n))  # fmt: skip
    for i, r in enumerate(rows.itertuples(), start=1):
        scale = 100 if r.kind == "rate" else 1
        value = r.ours * scale if pd.notna(r.ours) else None
        fig.add_trace(go.Bar(x=[value], y=[ours], orientation="h", marker_color="#2563eb",
                             text=[r.ours_shown], textposition="auto", showlegend=False,
                             hovertemplate=f"{ours}: {r.ours_shown}<extra></extra>"),
                      row=i, col=1)  # fmt: skip
        for name, v, shown, dash, colour in ((average, r.peer_average, r.peer_average_shown,
                                               "dash", "#64748b"),
                                              (best, r.peer_best, r.peer_best_shown, "solid",
                                               "#16a34a")):  # fmt: skip
            if pd.notna(v):
                fig.add_vline(x=v * scale, line_dash=dash, line_color=colour, row=i, col=1,
                              annotation_text=f"{name} {shown}",
                              annotation_position="top")  # fmt: skip
        unit = "%" if r.kind == "rate" else (second if r.kind == "duration" else "")
        fig.update_xaxes(ticksuffix=unit, row=i, col=1, rangemode="tozero")
    return fig.update_layout(title=title, **{**LAYOUT, "height": 110 * n + 90})

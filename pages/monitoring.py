"""Monitoring page: the alert feed (acknowledge, resolve, history), alert rules and webhooks,
customer comments by sentiment and theme (each comment with its label, emotions and evidence),
forbidden phrases in agents' replies (from uploaded transcripts), per-channel KPIs and workload
balance."""

import json

import streamlit as st

from lib.metrics.kpis import by_channel, load_catalogue
from lib.monitoring import alerts, webhooks, workload
from lib.present import charts, views
from lib.quality import voice
from pages._filters import context
from pages._rules import editor as rules_editor
from pages._ui import con, guard, lang, safe, t

who = guard("monitoring")
st.header(t("nav.monitoring"))
period, team, scheme, _ = context(score=False)
catalogue = load_catalogue()
# Labels are looked up in plain dicts: widgets may format options outside a script run.
kpi_names = views.kpi_names(lang(), catalogue)
statuses = {s: t(f"alert.{s}") for s in ("open", "acknowledged", "resolved")}
groupings = {b: t(f"monitor.by_{b}") for b in ("agent", "team")}
tab_feed, tab_voice, tab_channels, tab_load, tab_rules = st.tabs(
    [
        t("monitor.feed"),
        t("monitor.voice"),
        t("monitor.channels"),
        t("monitor.workload"),
        t("monitor.rules"),
    ]
)

with tab_feed:
    status = st.segmented_control(t("monitor.status"), ["open", "acknowledged", "resolved"], default="open",
                                  format_func=statuses.get, key="alert_status")  # fmt: skip
    feed, _ = views.alert_feed(con(), who, lang(), status=status)
    st.caption(t("monitor.count", count=len(feed)))
    for a in feed.head(50).itertuples():
        with st.container(border=True):
            st.markdown(f"**{a.severity_shown}** · {safe(a.subject)} · {safe(a.title)} · {a.when}")
            st.markdown(safe(a.numbers))
            c1, c2, c3, c4 = st.columns(4)
            if isinstance(a.agent, str) and c4.button(
                t("alert.open_scorecard"), key=f"go_{a.alert_key}"
            ):
                st.session_state["agent"] = a.agent
                if isinstance(a.kpi, str):
                    st.session_state.update(agent_trend_kpi=a.kpi, drill_kpi=a.kpi)
                st.switch_page("pages/scorecard.py")
            if a.status != "acknowledged" and c1.button(
                t("alert.acknowledge"), key=f"ack_{a.alert_key}"
            ):
                alerts.act(con(), who, a.alert_key, "acknowledge", base_version=a.version)
                st.rerun()
            if a.status != "resolved" and c2.button(t("alert.resolve"), key=f"res_{a.alert_key}"):
                alerts.act(con(), who, a.alert_key, "resolve", base_version=a.version)
                st.rerun()
            if a.status == "resolved" and c3.button(t("alert.reopen"), key=f"reo_{a.alert_key}"):
                alerts.act(con(), who, a.alert_key, "reopen", base_version=a.version)
                st.rerun()

with tab_voice:
    frame = voice.comments(con(), who, period.start, period.end, team)
    by = st.radio(
        t("monitor.by"),
        ["agent", "team"],
        horizontal=True,
        format_func=groupings.get,
    )
    summary = voice.summary(frame, by, lang())
    st.dataframe(summary.rename(columns={c: t(f"voice.{c}") for c in summary.columns}), hide_index=True, placeholder="–",
                 width="stretch", column_config={t("voice.negative_rate"): st.column_config.NumberColumn(format="percent")})  # fmt: skip
    st.subheader(t("voice.comment_list"))
    labels = {"": t("voice.any")} | {
        v: t(f"sentiment.{v}") for v in ("negative", "neutral", "positive")
    }
    feelings = {"": t("voice.any")} | {
        e: t(f"emotion.{e}") for e in ("anger", "confusion", "satisfaction")
    }
    f1, f2 = st.columns(2)
    label = f1.selectbox(
        t("voice.filter_label"), list(labels), index=1, format_func=labels.get, key="voice_label"
    )
    feeling = f2.selectbox(t("voice.filter_emotion"), list(feelings), format_func=feelings.get, key="voice_emotion")  # fmt: skip
    shown = voice.comment_view(frame, lang(), label or None, feeling or None)
    if shown.empty:
        st.caption(t("voice.no_comments"))
    else:
        st.dataframe(shown.head(500).rename(columns={c: t(f"voice.{c}") for c in shown.columns}),
                     hide_index=True, placeholder="–", width="stretch")  # fmt: skip
    st.subheader(t("voice.forbidden_header"))
    sent = voice.replies(con(), who, period.start, period.end, team)
    if sent.empty:
        st.caption(t("voice.no_transcripts"))
    else:
        hits = voice.forbidden_summary(sent, by)
        st.dataframe(hits.rename(columns={c: t(f"voice.{c}") for c in hits.columns}), hide_index=True, placeholder="–",
                     width="stretch", column_config={t("voice.forbidden_rate"): st.column_config.NumberColumn(format="percent")})  # fmt: skip

with tab_channels:
    ids = by_channel(catalogue)
    chosen = st.multiselect(t("monitor.channel_kpis"), ids, default=ids[:4], placeholder=t("common.choose"),
                            format_func=kpi_names.get)  # fmt: skip
    if chosen:
        st.dataframe(
            views.channel_table(con(), who, period, team, chosen, lang()),
            hide_index=True,
            placeholder="–",
            width="stretch",
        )

with tab_load:
    band = st.slider(t("monitor.band"), 0.05, 0.5, 0.2, 0.05)
    days = workload.daily(con(), who, period.start, period.end, team)
    summary = workload.balance(days, band)
    shown = summary.assign(verdict=[t(f"load.{v}") for v in summary["verdict"]])
    st.dataframe(shown.rename(columns={c: t(f"load.{c}") for c in shown.columns}), hide_index=True, placeholder="–", width="stretch",
                 column_config={t(f"load.{c}"): st.column_config.NumberColumn(format="percent")
                                for c in ("over_share", "under_share", "load")})  # fmt: skip
    hours = workload.hourly(con(), who, period.start, period.end, team)
    st.plotly_chart(
        charts.hourly_load(hours, t("monitor.hourly"), t("monitor.median")), width="stretch"
    )
    moves = workload.rebalance(summary, band)
    st.subheader(t("monitor.rebalance"))
    st.dataframe(
        moves.rename(columns={c: t(f"move.{c}") for c in moves.columns}),
        hide_index=True,
        placeholder="–",
        width="stretch",
    )

with tab_rules:
    rules_editor("alerts", who, who.can("edit_schemes"), alerts.save,
                 after=lambda db: alerts.refresh(db, who, force=True))  # fmt: skip
    config = alerts.load(con())
    may_send = who.can("edit_schemes")  # sending is for those who edit the rules
    for hook in config.get("webhooks") or []:
        a, b = st.columns([3, 1])
        a.markdown(safe(f"{hook.get('name')} · {hook.get('format')} · {hook.get('url')}"))
        if may_send and b.button(t("monitor.test_hook"), key=f"hook_{hook.get('name')}"):
            st.session_state["hook_job"] = webhooks.start(who, lambda h=hook: webhooks.test_hook(h))
    if may_send and config.get("webhooks") and st.button(t("monitor.send_now")):
        db, open_now = con(), alerts.feed(con(), who, status="open")  # read here, not in the thread
        st.session_state["hook_job"] = webhooks.start(
            who, lambda: webhooks.deliver(db, who, config["webhooks"], open_now)
        )
    job = st.session_state.get("hook_job")

    @st.fragment(run_every=1)
    def sending():
        """Sending runs in the background; this part of the page watches it."""
        if not job.done:
            st.info(t("monitor.sending"), icon=":material/send:")
            return
        st.rerun()  # done: draw the result once, with the rest of the page

    if job is not None and not job.done:
        sending()
    elif job is not None:
        if job.error or isinstance(job.report, str):
            st.error(t("monitor.hook_failed", reason=safe(job.error or job.report)))
        elif job.report is None:
            st.success(t("monitor.hook_ok"))
        else:
            st.code(json.dumps(job.report, ensure_ascii=False, indent=2))

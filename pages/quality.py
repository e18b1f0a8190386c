"""Quality page: for reviewers the review queue and form, sampling, reviews, disputes and 360°
feedback; for an agent their own reviews (with disputes) and anonymous peer feedback."""

import streamlit as st

from lib.auth import users
from lib.coaching import peer
from lib.core import errors
from lib.core.errors import AccessDenied
from lib.core.i18n import message
from lib.present import views
from lib.quality import reviews, rubric, sampling
from pages._filters import context
from pages._ui import con, guard, lang, safe, t

who = guard("quality")
st.header(t("nav.quality"))
if "qa_flash" in st.session_state:
    st.success(st.session_state.pop("qa_flash"))
period, team, scheme, card = context()
rub = rubric.current(con())


def scores_form(prefix: str, start: dict | None = None) -> dict:
    """One choice per rubric criterion: 0..points, or N/A where allowed."""
    given = {}
    for c in rub.criteria:
        options = ([None] if c.na_allowed else []) + list(range(c.points, -1, -1))
        first = (start or {}).get(c.id, c.points)
        given[c.id] = st.segmented_control(
            f"{c.label(lang())} · ×{c.weight:g}" + (" · " + t("qa.critical") if c.critical else ""),
            options, default=first if first in options else c.points, key=f"{prefix}_{c.id}",
            format_func=lambda p: t("qa.na") if p is None else str(p))  # fmt: skip
    return given


def show_review(review_id: str):
    detail = reviews.detail(con(), who, review_id, lang())
    shown = detail.assign(score=detail["score"].map(lambda s: t("qa.na") if s != s else f"{s:g}"))
    st.dataframe(shown[["label", "score", "max_score", "critical_failed", "comment"]]
                 .rename(columns=lambda c: t(f"qa.col.{c}")), hide_index=True, placeholder="–", width="stretch")  # fmt: skip
    return detail


def fail(exc: Exception):
    st.error(message(str(exc), lang()))


def peer_tab(agent: str):
    summary = peer.summary(con(), who, agent)
    st.dataframe(
        summary.rename(columns=lambda c: t(f"qa.col.{c}")), hide_index=True, placeholder="–"
    )
    rows = peer.for_agent_view(con(), who, agent) if who.is_agent else peer.about(con(), who, agent)
    if who.is_agent:
        st.caption(t("qa.peer_anonymous", n=peer.MIN_REVIEWERS))
    st.dataframe(
        rows.rename(columns=lambda c: t(f"qa.col.{c}")),
        hide_index=True,
        placeholder="–",
        width="stretch",
    )


if who.is_agent:
    mine, feedback = st.tabs([t("qa.my_reviews"), t("qa.peer")])
    with mine:
        own = reviews.scored(con(), who, who.agent)
        if own.empty:
            st.info(t("qa.none"))
        else:
            st.dataframe(own[["review_id", "reviewed_at", "reviewer", "ticket_id", "score_pct",
                              "critical_failed", "dispute"]].rename(columns=lambda c: t(f"qa.col.{c}")),
                         hide_index=True, placeholder="–", width="stretch")  # fmt: skip
            pick = st.selectbox(t("qa.review"), own["review_id"], key="agent_review")
            show_review(pick)
            with st.form("dispute", clear_on_submit=True):
                reason = st.text_area(t("qa.dispute_reason", days=rub.dispute_window_days))
                if st.form_submit_button(t("qa.dispute")):
                    try:
                        reviews.open_dispute(con(), who, pick, reason)
                        st.success(t("qa.disputed"))
                    except (errors.ReviewError, AccessDenied) as exc:
                        fail(exc)
        decided = reviews.disputes(con(), who)
        if not decided.empty:
            st.subheader(t("qa.disputes"))
            st.dataframe(decided[["review_id", "opened_at", "reason", "status", "decision", "score_before",
                                  "score_after"]].rename(columns=lambda c: t(f"qa.col.{c}")),
                         hide_index=True, placeholder="–", width="stretch")  # fmt: skip
    with feedback:
        peer_tab(who.agent)
        mates = peer.colleagues(con(), who)
        with st.form("peer_form", clear_on_submit=True):
            st.markdown(t("qa.peer_give", period=period.label))
            mate = st.selectbox(t("qa.colleague"), mates)
            score = st.slider(t("qa.col.score"), 1.0, 5.0, 4.0, 0.5)
            comment = st.text_input(t("qa.col.comment"))
            if st.form_submit_button(t("qa.peer_send")) and mate:
                peer.submit(
                    con(), who, agent=mate, period=period.label, score=score, comment=comment
                )
                st.success(t("qa.peer_sent"))
    st.stop()

queue_tab, build_tab, list_tab, dispute_tab, peer_t = st.tabs(
    [t("qa.queue"), t("qa.build"), t("qa.reviews"), t("qa.disputes"), t("qa.peer")]
)
with queue_tab:
    items = sampling.queue(con(), who, who.username)
    st.caption(t("qa.queue_help", n=len(items)))
    if not items.empty:
        st.dataframe(items[["item_id", "period", "agent", "ticket_id", "reason"]]
                     .rename(columns=lambda c: t(f"qa.col.{c}")), hide_index=True, placeholder="–", width="stretch")  # fmt: skip
        item = items.set_index("item_id").loc[st.selectbox(t("qa.item"), items["item_id"])]
        with st.form("review_form"):
            st.markdown(
                t("qa.reviewing", agent=safe(item["agent"]), ticket=safe(item["ticket_id"]))
            )
            given = scores_form("rf")
            comment = st.text_input(t("qa.col.comment"))
            if st.form_submit_button(t("qa.submit"), type="primary"):
                try:
                    reviews.submit(con(), who, ticket_id=item["ticket_id"], agent=item["agent"],
                                   scores=given, comment=comment, item_id=int(item.name))  # fmt: skip
                    st.session_state["qa_flash"] = t(
                        "qa.saved", score=f"{rub.review_score(given) or 0:.0f}"
                    )
                    st.rerun()
                except errors.ReviewError as exc:
                    fail(exc)
with build_tab:
    accounts = users.listing(users.auth_path())
    with st.form("build_queue"):
        method = st.segmented_control(t("qa.method"), sampling.METHODS, default="per_agent",
                                      format_func=lambda m: t(f"qa.method.{m}"))  # fmt: skip
        count = st.number_input(t("qa.count"), 1, 500, 5)
        targets = st.multiselect(t("qa.targets"), sampling.TARGETS, default=list(sampling.TARGETS), placeholder=t("common.choose"),
                                 format_func=lambda m: t(f"qa.reason.{m}"))  # fmt: skip
        chosen = st.multiselect(
            t("qa.reviewers"),
            users.reviewers(users.auth_path()),
            default=[who.username],
            placeholder=t("common.choose"),
        )
        if st.form_submit_button(t("qa.build_go"), type="primary"):
            try:
                done = sampling.build(con(), who, period.label, method or "per_agent", int(count), chosen,
                                      agent_of=dict(zip(accounts["username"], accounts["agent"], strict=True)),
                                      targets=targets)  # fmt: skip
                st.session_state["qa_flash"] = t(
                    "qa.built", **{k: done[k] for k in ("queued", "unassignable")}
                )
                st.rerun()  # the queue tab shows the new items
            except ValueError as exc:
                fail(exc)
with list_tab:
    done = reviews.scored(con(), who, start=period.start, end=period.end)
    st.dataframe(done.drop(columns=["agent_team"], errors="ignore").rename(columns=lambda c: t(f"qa.col.{c}")),
                 hide_index=True, placeholder="–", width="stretch")  # fmt: skip
    if not done.empty:
        show_review(st.selectbox(t("qa.review"), done["review_id"], key="list_review"))
with dispute_tab:
    open_ = reviews.disputes(con(), who, "open")
    disputes = views.readable_values(reviews.disputes(con(), who), "qa_disputes", lang())
    st.dataframe(disputes.rename(columns=lambda c: t(f"qa.col.{c}")),
                 hide_index=True, placeholder="–", width="stretch")  # fmt: skip
    if who.can("decide_disputes") and not open_.empty:
        case = open_.set_index("dispute_id").loc[
            st.selectbox(t("qa.dispute_pick"), open_["dispute_id"])
        ]
        st.markdown(t("qa.dispute_case", agent=safe(case["agent"]), reason=safe(case["reason"])))
        detail = show_review(case["review_id"])
        with st.form("decide"):
            choice = st.radio(t("qa.decision"), [t("qa.uphold"), t("qa.change")], horizontal=True)
            start = {
                c: (None if s != s else int(s))
                for c, s in zip(detail["criterion_id"], detail["score"], strict=True)
            }
            given = scores_form("dc", start)
            note = st.text_input(t("qa.decision_note"))
            if st.form_submit_button(t("qa.decide"), type="primary"):
                try:
                    reviews.decide(
                        con(),
                        who,
                        int(case.name),
                        uphold=choice == t("qa.uphold"),
                        note=note,
                        scores=given,
                    )
                    st.rerun()
                except (errors.ReviewError, errors.ConflictError) as exc:
                    fail(exc)
with peer_t:
    agents = list(card.agents["agent"])
    if agents:
        peer_tab(st.selectbox(t("scorecard.agent"), agents, key="peer_agent"))

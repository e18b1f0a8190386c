"""Canonical tables: the one description of every table an upload can feed.

Each table lists its columns with a value kind (how raw export text is parsed), whether the
column is required, and the key that makes re-uploads idempotent. Ingestion, validation, the
interactive mapping builder and the store's schema test all read this module, so a column is
described once. Input-only columns (such as a first-reply time given as a duration instead of
a timestamp) are accepted from exports and turned into canonical columns during ingestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Value kinds and the DuckDB type each one is stored as.
SQL_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "number": "DOUBLE",
    "money": "DOUBLE",
    "rate": "DOUBLE",
    "duration": "DOUBLE",
    "rating": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    label_zh: str = ""
    # Input-only columns are read from exports but not stored as such.
    input_only: bool = False

    def label(self, lang: str) -> str:
        """The column's name for people: its Chinese label, or the field name in words
        (avg_response_s → "average response (s)", is_complaint → "complaint")."""
        if lang == "zh" and self.label_zh:
            return self.label_zh
        words = ["average" if w == "avg" else w for w in self.name.split("_")]
        if words[0] == "is" and len(words) > 1:
            words = words[1:]
        if words[-1] == "s" and len(words) > 1:
            words[-1] = "(s)"
        return " ".join(words)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    label_zh: str = ""
    label_en: str = ""
    checks: tuple[str, ...] = field(default=())
    dated_by: str = ""  # the column that dates each row (periods, trends, the overview)

    @property
    def natural_key(self) -> tuple[str, ...]:
        """The key as an export states it, without the shop and period it is stored under."""
        return tuple(k for k in self.key if k not in SCOPE)

    @property
    def stored(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.input_only)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)


def _c(name: str, kind: str, label_zh: str, required: bool = False, input_only: bool = False):
    return Column(name, kind, required, label_zh, input_only)


# Shop and platform scope every row of the tables that platform exports feed: two shops'
# exports never overwrite each other, and one person's accounts in several shops stay apart.
# `account` is the agent as the export names it (a sub-account such as 旗舰店:小美); `agent` is
# the person it is linked to (see lib.ingest.accounts). `period_end` marks a period report's row, and
# `report` (the mapping) keeps apart reports that give different columns of one agent's day,
# such as 京东's service, sales and review reports; KPIs add their rows up.
SCOPE = ("platform", "shop", "period_end", "report")
SHOP_TABLES = ("tickets", "csat_responses", "orders", "agent_daily")


def _scope(account: bool = True) -> tuple[Column, ...]:
    cols = (_c("shop", "text", "店铺"), _c("platform", "text", "平台"))
    return cols + ((_c("account", "text", "客服账号"),) if account else ())


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "tickets",
            ("platform", "shop", "ticket_id"),
            (
                _c("ticket_id", "text", "工单号", True),
                _c("agent", "text", "客服", True),
                _c("created_at", "timestamp", "创建时间", True),
                _c("first_response_at", "timestamp", "首次响应时间"),
                _c("resolved_at", "timestamp", "解决时间"),
                _c("channel", "text", "渠道"),
                _c("priority", "text", "优先级"),
                _c("status", "text", "状态"),
                _c("team", "text", "小组"),
                _c("customer_id", "text", "客户"),
                _c("category", "text", "问题类别"),
                _c("contacts", "int", "客户联系次数"),
                _c("agent_replies", "int", "客服回复数"),
                _c("reopens", "int", "重开次数"),
                _c("transferred", "bool", "是否转接"),
                _c("escalated", "bool", "是否升级"),
                _c("is_complaint", "bool", "是否投诉"),
                _c("handle_time_s", "duration", "处理时长"),
                _c("csat", "rating", "满意度评分"),
                _c("comment", "text", "客户评价"),
                _c("answered", "bool", "是否已回复"),  # flags, for exports without times
                _c("resolved", "bool", "是否已解决"),
                _c("first_response_s", "duration", "首次响应时长", input_only=True),
                _c("resolution_s", "duration", "解决时长", input_only=True),
                *_scope(),
            ),
            "工单",
            "Tickets",
            (
                "response_after_creation",
                "resolved_after_creation",
                "resolved_after_response",
                "response_within_limit",
                "resolved_within_limit",
            ),
            dated_by="created_at",
        ),
        Table(
            "csat_responses",
            ("platform", "shop", "ticket_id", "responded_at"),
            (
                _c("ticket_id", "text", "工单号", True),
                _c("rating", "rating", "评分", True),
                _c("agent", "text", "客服"),
                _c("responded_at", "timestamp", "评价时间"),
                _c("scale", "int", "满分"),
                _c("comment", "text", "评价内容"),
                *_scope(),
            ),
            "满意度评价",
            "CSAT responses",
            dated_by="responded_at",
        ),
        Table(
            "orders",
            ("platform", "shop", "order_id"),
            (
                _c("order_id", "text", "订单号", True),
                _c("agent", "text", "客服", True),
                _c("created_at", "timestamp", "下单时间", True),
                _c("amount", "money", "订单金额", True),
                _c("paid_at", "timestamp", "付款时间"),
                _c("status", "text", "订单状态"),
                _c("refund_amount", "money", "退款金额"),
                _c("customer_id", "text", "客户"),
                _c("ticket_id", "text", "工单号"),
                *_scope(),
            ),
            "订单",
            "Orders",
            ("refund_not_above_amount",),
            dated_by="created_at",
        ),
        Table(
            "agent_daily",
            ("platform", "shop", "date", "period_end", "report", "account"),
            (
                _c("date", "date", "日期", True),
                _c("agent", "text", "客服", True),
                _c("inquiries", "int", "询单人数"),
                _c("receptions", "int", "接待人数"),
                _c("paying_customers", "int", "最终付款人数"),
                _c("orders", "int", "订单数"),
                _c("sales_amount", "money", "客服销售额"),
                _c("refund_amount", "money", "退款金额"),
                _c("avg_response_s", "duration", "平均响应时长"),
                _c("first_response_s", "duration", "首次响应时长"),
                _c("reply_rate", "rate", "回复率"),
                _c("reply_3min_rate", "rate", "3分钟回复率"),
                _c("satisfaction_rate", "rate", "客户满意率"),
                _c("good_reviews", "int", "好评数"),
                _c("bad_reviews", "int", "差评数"),
                _c("unreplied", "int", "未回复数"),
                _c("transfers", "int", "转出数"),
                _c("reply_30s_rate", "rate", "30秒应答率"),
                _c("service_score", "number", "客服服务分"),
                _c("lost_inquiries", "int", "询单流失人数"),
                _c("answer_ratio", "number", "答问比"),
                _c("no_service_rate", "rate", "不服务率"),
                _c("bad_review_rate", "rate", "差评率"),
                _c("conversion_rate", "rate", "询单转化率"),
                _c("period_end", "date", "统计截止日"),  # a period report's last day
                _c("report", "text", "报表"),  # the mapping that read it
                *_scope(),
            ),
            "客服日报",
            "Agent daily stats",
            dated_by="date",
        ),
        Table(
            "qa_reviews",
            ("review_id", "criterion"),
            (
                _c("review_id", "text", "质检单号", True),
                _c("agent", "text", "客服", True),
                _c("reviewer", "text", "质检员", True),
                _c("criterion", "text", "评分项", True),
                _c("score", "number", "得分"),  # empty or N/A: the criterion does not apply
                _c("ticket_id", "text", "工单号"),
                _c("reviewed_at", "timestamp", "质检时间"),
                _c("max_score", "number", "满分"),
                _c("critical_failed", "bool", "致命项不合格"),
                _c("comment", "text", "备注"),
            ),
            "质检评分",
            "QA reviews",
            ("score_not_above_max",),
            dated_by="reviewed_at",
        ),
        Table(
            "peer_reviews",
            ("period", "reviewer", "agent"),
            (
                _c("period", "text", "周期", True),
                _c("reviewer", "text", "评价人", True),
                _c("agent", "text", "客服", True),
                _c("score", "number", "得分", True),
                _c("comment", "text", "评语"),
            ),
            "互评",
            "Peer reviews",
            dated_by="period",
        ),
        Table(
            "messages",
            ("ticket_id", "seq"),
            (
                _c("ticket_id", "text", "工单号", True),
                _c("seq", "int", "序号", True),
                _c("sender", "text", "发送方", True),
                _c("text", "text", "内容", True),
                _c("sent_at", "timestamp", "发送时间"),
                _c("agent", "text", "客服"),
            ),
            "会话记录",
            "Transcripts",
            dated_by="sent_at",
        ),
        Table(
            "roster",
            ("agent",),
            (
                _c("agent", "text", "客服", True),
                _c("display_name", "text", "显示名"),
                _c("team", "text", "小组"),
                _c("supervisor", "text", "主管"),
                _c("hire_date", "date", "入职日期"),
                _c("shift", "text", "班次"),
                _c("active", "bool", "在职"),
            ),
            "花名册",
            "Roster",
            dated_by="hire_date",
        ),
    )
}

KINDS = tuple(TABLES)


def get_table(kind: str) -> Table:
    """The table for an upload kind, or a ValueError listing the kinds there are."""
    try:
        return TABLES[kind]
    except KeyError:
        raise ValueError(f"unknown kind '{kind}'; expected one of: {', '.join(KINDS)}") from None

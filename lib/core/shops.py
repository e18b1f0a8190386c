"""Shops and platforms, and the summary rows that platform reports mix in with their agents.

A team often serves several shops (a 天猫旗舰店, a 京东 shop, a 拼多多 shop …). Every row of the
tables that platform exports feed carries its `platform` and `shop`; together they name a shop
(the same shop name can exist on two platforms), written as the key "platform|shop". Platform
names as exports and people write them (天猫, Tmall, PDD …) become one id each.

Platform reports also carry rows that are not agents: 汇总值, 平均值, 全店汇总值, 店铺平均值, and
the platform's own peer figures 同行同层优秀 / 同行同层均值 (shops of the same tier). They are
recognised wherever they sit, set aside with a reason, and the reference rows are kept as
benchmarks.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pyarrow.compute as pc

# Platform id → (zh, en) name.
PLATFORMS = {
    "taobao": ("淘宝/天猫", "Taobao/Tmall"),
    "pdd": ("拼多多", "Pinduoduo"),
    "jd": ("京东", "JD.com"),
    "douyin": ("抖音", "Douyin"),
    "kuaishou": ("快手", "Kuaishou"),
    "": ("其他平台", "Other platform"),
}
_ALIASES = {
    "taobao": ["淘宝", "天猫", "tmall", "taobao", "千牛", "淘宝/天猫", "天猫/淘宝"],
    "pdd": ["拼多多", "pdd", "pinduoduo"],
    "jd": ["京东", "jd", "jd.com", "京东商城", "京麦", "咚咚"],
    "douyin": ["抖音", "douyin", "抖店", "飞鸽", "tiktok"],
    "kuaishou": ["快手", "kuaishou", "快手小店"],
    "": ["", "其他", "other", "其他平台"],
}
ALIASES = {alias.lower(): pid for pid, names in _ALIASES.items() for alias in names}


def platform_id(text: str | None) -> str:
    """The platform id for a name as written (天猫 → taobao); unknown names are kept as given."""
    value = (text or "").strip()
    return ALIASES.get(value.lower(), value)


def key(platform: str | None, shop: str | None) -> str:
    return f"{platform or ''}|{shop or ''}"


def split_key(shop_key: str) -> tuple[str, str]:
    platform, _, shop = shop_key.partition("|")
    return platform, shop


def platform_label(platform: str, lang: str = "zh") -> str:
    names = PLATFORMS.get(platform)
    return names[0 if lang == "zh" else 1] if names else platform


def label(shop_key: str, lang: str = "zh") -> str:
    """A shop as people read it: "拼多多 · 小美家居"; the default shop of stores from before
    shops were recorded reads "默认店铺" / "Default shop"."""
    platform, shop = split_key(shop_key)
    if not shop and not platform:
        return "默认店铺" if lang == "zh" else "Default shop"
    name = shop or ("未命名店铺" if lang == "zh" else "unnamed shop")
    return f"{platform_label(platform, lang)} · {name}" if platform else name


def shop_from_account(account: str | None) -> tuple[str, str]:
    """A sub-account such as "旗舰店:小美" names its shop before the colon: (shop, name)."""
    if not account:
        return "", account or ""
    m = re.match(r"^\s*([^:：]+?)\s*[:：]\s*(.+?)\s*$", account)
    return (m.group(1), m.group(2)) if m else ("", account.strip())


def month_span(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a month written 2026-10."""
    first = dt.date.fromisoformat(f"{month}-01")
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def recent_months(today: dt.date, count: int) -> list[str]:
    """The current month and the ones before it, newest first: ["2026-12", "2026-11", …]."""
    out, day = [], today.replace(day=1)
    for _ in range(count):
        out.append(f"{day:%Y-%m}")
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return out


def month_in_name(name: str) -> str | None:
    """The month a file's name states (客服绩效_2026-10.csv, 202610, 2026年10月), if any."""
    m = re.search(r"(20\d\d)\s*(?:[-_.年/]\s*)?(0[1-9]|1[0-2]|[1-9](?!\d))\s*月?", name or "")
    return f"{m.group(1)}-{int(m.group(2)):02d}" if m else None


# Summary rows: label → kind. peer_* are the platform's figures for shops of the same tier.
SUMMARY_KINDS = {
    "peer_best": r"同行同层优秀(?:值)?|同行优秀(?:值)?|同层优秀(?:值)?",
    "peer_average": r"同行同层(?:均值|平均值?)|同行(?:均值|平均值?)|同层(?:均值|平均值?)",
    "shop_total": r"(?:全店|店铺|本店)(?:汇总值?|合计|总计)",
    "shop_average": r"(?:全店|店铺|本店)(?:平均值?|均值)",
    "total": r"汇总值?|合计|总计|小计|total|sum|grand total",
    "average": r"平均值?|均值|average|mean|avg",
}
_SUMMARY = [(kind, re.compile(rf"^(?:{rx})[:：]?$", re.I)) for kind, rx in SUMMARY_KINDS.items()]
PEER_KINDS = ("peer_best", "peer_average")
ANY_SUMMARY = r"^\s*(?:" + "|".join(SUMMARY_KINDS.values()) + r")\s*[:：]?\s*$"


def summary_kind(text: str | None) -> str | None:
    """The kind of summary row a cell labels, or None for anything else (an agent)."""
    if not text:
        return None
    value = re.sub(r"\s+", "", str(text))
    for kind, rx in _SUMMARY:
        if rx.match(value):
            return kind
    return None


def summary_rows(table: pa.Table, columns: list[str] | None = None) -> dict[int, tuple[str, str]]:
    """Rows of a file's text table that are summary rows: index → (kind, label). A row counts
    when one of `columns` (default: every column) holds nothing but a summary label."""
    out: dict[int, tuple[str, str]] = {}
    for name in columns or table.column_names:
        arr = table.column(name)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(pa.string())
        # One vectorised pass finds the candidates; only those are classified one by one.
        hit = pc.fill_null(pc.match_substring_regex(arr, ANY_SUMMARY, ignore_case=True), False)
        for i in pc.indices_nonzero(hit).to_pylist():
            value = arr[i].as_py()
            kind = summary_kind(value)
            if kind:
                out.setdefault(i, (kind, value.strip()))
    return out

"""Offline, explainable sentiment for customer comments (Chinese and English).

Counts lexicon terms from `config/sentiment.yaml`: positive terms +1, negative terms -1. A
negation word just before a positive term flips it (不满意, not helpful); before a negative
term it cancels it (没有不耐烦, never rude: neither praise nor complaint). Words listed under
`ignore` (快递 contains 快) are masked first. The label is positive, negative or neutral by
the sign of the total, and `explain` returns the terms that decided it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from lib.store import ROOT

LEXICON = ROOT / "config" / "sentiment.yaml"
_WORD = re.compile(r"[a-z']+")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    zh = [(t, 1) for t in data["positive"]["zh"]] + [(t, -1) for t in data["negative"]["zh"]]
    zh.sort(key=lambda p: len(p[0]), reverse=True)  # longest terms first: 不满意 before 满意
    return {
        "zh": zh,
        "en": {**{t: 1 for t in data["positive"]["en"]}, **{t: -1 for t in data["negative"]["en"]}},
        "neg_zh": sorted(data["negation"]["zh"], key=len, reverse=True),
        "neg_en": set(data["negation"]["en"]),
        "ignore_zh": (data.get("ignore") or {}).get("zh", []),
    }


def explain(text: str | None) -> tuple[int, list[str]]:
    """The total polarity of a comment and the terms (with negations) behind it."""
    if not text:
        return 0, []
    lex = lexicon()
    total, hits = 0, []
    chars = text
    for word in lex["ignore_zh"]:
        chars = chars.replace(word, "\0" * len(word))
    for term, polarity in lex["zh"]:
        start = chars.find(term)
        while start >= 0:
            before = chars[max(0, start - 2) : start]
            negated = any(n in before for n in lex["neg_zh"])
            total += (-polarity if polarity > 0 else 0) if negated else polarity
            hits.append(("not " if negated else "") + term)
            chars = chars[:start] + "\0" * len(term) + chars[start + len(term) :]
            start = chars.find(term)
    words = _WORD.findall(text.lower().replace("’", "'"))
    for i, word in enumerate(words):
        polarity = lex["en"].get(word)
        if polarity is None:
            continue
        window = words[max(0, i - 3) : i]
        negated = any(w in lex["neg_en"] or w.endswith("n't") for w in window)
        total += (-polarity if polarity > 0 else 0) if negated else polarity
        hits.append(("not " if negated else "") + word)
    return total, hits


@lru_cache(maxsize=1)
def _extras() -> dict:
    return yaml.safe_load(LEXICON.read_text(encoding="utf-8"))


def themes(text: str | None) -> list[str]:
    """The theme groups (delivery, refund, attitude …) whose keywords occur in a comment."""
    if not text:
        return []
    low = text.lower()
    return [name for name, group in (_extras().get("themes") or {}).items()
            if any(word.lower() in low for word in group["words"])]  # fmt: skip


def theme_label(name: str, lang: str) -> str:
    group = (_extras().get("themes") or {}).get(name, {})
    return group.get(lang) or name


def forbidden(text: str | None) -> list[str]:
    """Forbidden phrases (禁忌语) found in an agent's reply."""
    if not text:
        return []
    low = text.lower().replace("’", "'")
    phrases = _extras().get("forbidden") or {}
    return [p for p in [*phrases.get("zh", []), *phrases.get("en", [])] if p.lower() in low]


def classify(text: str | None) -> str:
    score, _ = explain(text)
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"

"""Offline, explainable sentiment for customer comments (Chinese and English).

Two parts decide a comment's label. The editable lexicon in `config/sentiment.yaml` finds
terms (不满意, not helpful, 😡) with negation (不满意 flips 满意; 没有不耐烦 cancels 不耐烦), except
in a rhetorical question (这不是骗人吗 stays a complaint), and masks look-alikes (出差, 快2个小时).
A small linear model (`config/sentiment_model.json.gz`: naive-Bayes-weighted logistic
regression, trained by `bench/train_sentiment.py` on public labelled reviews) weighs character
n-grams (Chinese) or words and word pairs (English) together with the lexicon's count; a
question or request needs strong evidence to be called positive or negative. A term that a manager adds to
the lexicon after the model was trained overrides the model. Every result carries its evidence:
the lexicon terms that fired and the n-grams that pushed the score most, plus emotion tags
(anger, confusion, satisfaction) from the `emotions` cues. `stored` keeps each comment's result
in the store so a comment is classified once per model and lexicon version.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from lib.core import yamlio
from lib.core.i18n import t
from lib.core.paths import ROOT
from lib.core.store import WRITE_LOCK

LEXICON = ROOT / "config" / "sentiment.yaml"
MODEL = ROOT / "config" / "sentiment_model.json.gz"
LABELS = ("positive", "neutral", "negative")
EMOTIONS = ("anger", "confusion", "satisfaction")
_WORD = re.compile(r"[a-z0-9']+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_TOKEN = re.compile(r"[a-z']+|\d+|[!?]+|\.{3,}|[^\sa-z0-9'!?.,;:\"()\[\]{}<>/\\|_*#=+~^&%$-]")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_STOP_SCOPE = re.compile(r"^[!?.,;:]+$")
_PUNCT_MIX = re.compile(r"[,.;:、]|(?=.*[!?])(?=.*[^!?\s])")  # ",问", "thanks !": not shown


@dataclass
class Result:
    """A comment's label with the reasons for it."""

    label: str
    score: float = 0.0  # log-odds that the comment is negative (model plus lexicon)
    lexicon: list[str] = field(default_factory=list)  # lexicon terms that fired, "not 满意"
    features: list[str] = field(default_factory=list)  # model n-grams that pushed the label
    override: list[str] = field(default_factory=list)  # manager-added terms that decided it
    emotions: list[str] = field(default_factory=list)

    def evidence(self, lang: str = "en") -> str:
        """One line a manager can read: why this label."""

        parts = []
        for key, terms in (("added", self.override), ("lexicon", self.lexicon),
                           ("model", self.features)):  # fmt: skip
            if terms:
                parts.append(t(f"evidence.{key}", lang) + ": " + ", ".join(terms))
        return "; ".join(parts)


# --- lexicon ---------------------------------------------------------------------------


def _raw() -> dict:
    return yamlio.load(LEXICON.read_text(encoding="utf-8")) or {}


@lru_cache(maxsize=1)
def lexicon() -> dict:
    data = _raw()
    zh = [(t, 1) for t in data["positive"]["zh"]] + [(t, -1) for t in data["negative"]["zh"]]
    zh.sort(key=lambda p: len(p[0]), reverse=True)  # longest terms first: 不满意 before 满意
    en_words, en_phrases = {}, []
    for polarity, key in ((1, "positive"), (-1, "negative")):
        for term in data[key]["en"]:
            term = str(term).lower()
            if " " in term:
                en_phrases.append((term.split(), polarity))
            else:
                en_words[term] = polarity
    symbols = [(s, 1) for s in (data.get("symbols") or {}).get("positive", [])]
    symbols += [(s, -1) for s in (data.get("symbols") or {}).get("negative", [])]
    ignore = data.get("ignore") or {}
    rules = data.get("patterns") or {}
    return {
        "patterns": [(re.compile(p), 1) for p in rules.get("positive") or []]
        + [(re.compile(p), -1) for p in rules.get("negative") or []],
        "zh": zh,
        "en": en_words,
        "en_phrases": sorted(en_phrases, key=lambda p: len(p[0]), reverse=True),
        "symbols": symbols,
        "neg_zh": sorted(data["negation"]["zh"], key=len, reverse=True),
        "neg_en": {str(n).lower() for n in data["negation"]["en"]},
        "ignore_zh": ignore.get("zh", []),
        "ignore_patterns": [re.compile(p) for p in ignore.get("patterns", [])],
        "rhetorical": [re.compile(p) for p in (data.get("rhetorical") or {}).get("patterns", [])],
        "inquiry": {
            "strong": float((data.get("inquiry") or {}).get("strong", 1.0)),
            "acks": {
                str(a).lower() for a in (data.get("inquiry") or {}).get("acknowledgements", [])
            },
            "patterns": [re.compile(p) for p in (data.get("inquiry") or {}).get("patterns", [])],
            "not_if": [re.compile(p) for p in (data.get("inquiry") or {}).get("not_if", [])],
        },
    }


def inquiry(text: str) -> bool:
    """A question, request or bare acknowledgement, with no exclamation in it."""
    rule = lexicon()["inquiry"]
    plain = text.strip()
    if any(p.search(plain) for p in rule["not_if"]):
        return False
    if re.sub(r"[\s,，.。!！~]+", " ", plain.lower()).strip() in rule["acks"]:
        return True
    return any(p.search(plain) for p in rule["patterns"])


def _lexicon_hits(text: str, rules: bool = True) -> list[tuple[str, int, bool]]:
    """(term, polarity, negated) for every lexicon term in the text (and, with `rules`, every
    match of the pattern rules)."""
    lex = lexicon()
    hits = []
    chars = text
    rhetorical = any(p.search(text) for p in lex["rhetorical"])
    if rules:
        for pattern, polarity in lex["patterns"]:
            hits += [(m.group(0), polarity, False) for m in pattern.finditer(text)]
    for pattern in lex["ignore_patterns"]:
        chars = pattern.sub(lambda m: "\0" * len(m.group(0)), chars)
    for word in lex["ignore_zh"]:
        chars = chars.replace(word, "\0" * len(word))
    for symbol, polarity in lex["symbols"]:
        if symbol in chars:
            hits += [(symbol, polarity, False)] * chars.count(symbol)
            chars = chars.replace(symbol, "\0" * len(symbol))
    for term, polarity in lex["zh"]:
        start = chars.find(term)
        while start >= 0:
            before = chars[max(0, start - 2) : start]
            negated = not rhetorical and any(n in before for n in lex["neg_zh"])
            hits.append((term, polarity, negated))
            chars = chars[:start] + "\0" * len(term) + chars[start + len(term) :]
            start = chars.find(term)
    words = _WORD.findall(text.lower().replace("’", "'"))
    used = [False] * len(words)
    for phrase, polarity in lex["en_phrases"]:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == phrase and not any(used[i : i + n]):
                used[i : i + n] = [True] * n
                hits.append((" ".join(phrase), polarity, _negated_en(words, i, lex)))
    for i, word in enumerate(words):
        polarity = lex["en"].get(word)
        if polarity is None or used[i]:
            continue
        hits.append((word, polarity, _negated_en(words, i, lex)))
    return hits


def _negated_en(words: list[str], i: int, lex: dict) -> bool:
    window = words[max(0, i - 3) : i]
    return any(w in lex["neg_en"] or w.endswith("n't") for w in window)


def _hit_value(polarity: int, negated: bool) -> int:
    """+1 praise, -1 complaint; a negated complaint (没有不耐烦) is neither."""
    if negated:
        return -polarity if polarity > 0 else 0
    return polarity


def explain(text: str | None, rules: bool = True) -> tuple[int, list[str]]:
    """The lexicon's total polarity of a comment and the terms (with negations) behind it;
    `rules=False` leaves out the pattern rules (the model is trained on terms only)."""
    if not text:
        return 0, []
    total, terms = 0, []
    for term, polarity, negated in _lexicon_hits(text, rules):
        total += _hit_value(polarity, negated)
        terms.append(("not " if negated else "") + term)
    return total, terms


# --- model -----------------------------------------------------------------------------


def language(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return re.sub(r"\d+(\.\d+)?", "0", text)


def features(text: str, lang: str | None = None) -> list[str]:
    """The n-grams the model reads: Chinese character 1-3-grams (and English words in
    mixed text); English words, word pairs and `not_`-marked words after a negation."""
    lang = lang or language(text)
    text = _URL.sub(" url ", text)
    text = _MENTION.sub(" @user ", text)
    norm = normalise(text)
    if lang == "zh":
        chars = re.sub(r"[a-z']+", " ", norm)
        chars = re.sub(r"\s+", "", chars)
        out = [chars[i : i + n] for n in (1, 2, 3) for i in range(len(chars) - n + 1)]
        return out + ["w:" + w for w in re.findall(r"[a-z']{2,}", norm)]
    tokens = _TOKEN.findall(norm)
    marked = [("not_" + tok) if negated else tok for tok, negated in _scoped(tokens)]
    return marked + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def _scoped(tokens: list[str]) -> list[tuple[str, bool]]:
    """Each English token with whether a negation before it (up to punctuation) covers it."""
    out, negate = [], False
    neg = lexicon()["neg_en"]
    for tok in tokens:
        if _STOP_SCOPE.match(tok):
            negate = False
            out.append((tok, False))
            continue
        out.append((tok, negate))
        if tok in neg or tok.endswith("n't"):
            negate = True
    return out


def valence_terms(text: str, table: dict[str, float]) -> list[tuple[str, float]]:
    """English words with a human-rated valence (the VADER lexicon kept in the model), a
    negated one flipped and damped as VADER does: "not good" counts -0.74 x good."""
    norm = normalise(_MENTION.sub(" ", _URL.sub(" ", text)))
    out = []
    for tok, negated in _scoped(_TOKEN.findall(norm)):
        value = table.get(tok)
        if value is not None:
            out.append((("not " + tok) if negated else tok, -0.74 * value if negated else value))
    return out


@lru_cache(maxsize=1)
def model() -> dict:
    """The trained weights per language ("zh", "en"): bias, lex (weight of the lexicon count),
    neutral (band around 0 called neutral), cue (what one n-gram must weigh to be evidence),
    inquiry_score (the score a question or request needs to be polar without a strong n-gram),
    weights (n-gram: weight), terms (the lexicon it was trained with) and, for English, valence
    (word: VADER valence) and valence_weight."""
    with gzip.open(MODEL, "rt", encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=1)
def version() -> str:
    """Changes whenever the model file or the lexicon changes: stored labels are redone."""
    digest = hashlib.sha1(MODEL.read_bytes())
    digest.update(LEXICON.read_bytes())
    return digest.hexdigest()[:16]


def _show(feature: str) -> str:
    if feature.startswith("w:"):
        return feature[2:]
    return feature.replace("not_", "not ")


def analyse(text: str | None) -> Result:
    """The label of a comment, with the evidence and emotion tags."""
    if not text or not str(text).strip():
        return Result("neutral")
    text = str(text)
    lang = language(text)
    params = model()[lang]
    trained = _trained_terms()
    hits = _lexicon_hits(text)
    lex_total, override_total, shown, override = 0, 0, [], []
    for term, polarity, negated in hits:
        value = _hit_value(polarity, negated)
        name = ("not " if negated else "") + term
        if term in trained["+" if polarity > 0 else "-"]:
            lex_total += value
            shown.append(name)
        else:  # added by a manager after training: decides the label
            override_total += value
            override.append(name)
    weights = params["weights"]
    contributions: dict[str, float] = {}
    for feat in set(features(_without_cancelled(text, hits), lang)):
        w = weights.get(feat)
        if w is not None:
            contributions[feat] = contributions.get(feat, 0.0) + w
    if params.get("valence"):
        for word, value in valence_terms(text, params["valence"]):
            contributions[word] = contributions.get(word, 0.0) + params["valence_weight"] * value
    score = params["bias"] - params["lex"] * lex_total + sum(contributions.values())
    if override_total:
        label = "positive" if override_total > 0 else "negative"
    else:
        label = "negative" if score > 0 else "positive"
        sign = 1 if score > 0 else -1
        need = params["cue"]
        if not lex_total and inquiry(text):  # a question or request: needs strong evidence
            need = max(need, lexicon()["inquiry"]["strong"])
        cue = lex_total != 0 or any(c * sign >= need for c in contributions.values())
        # ... or, for a question, a whole score as strong as the plain questions' never is
        cue = cue or abs(score) >= params.get("inquiry_score", float("inf"))
        if abs(score) < params["neutral"] or not cue:
            label = "neutral"
    names = shown + override
    top = _top(contributions, label, skip={*names, *(t.removeprefix("not ") for t in names)})
    result = Result(label, round(score, 3), shown, top, override)
    result.emotions = emotions(text, label)
    return result


@lru_cache(maxsize=1)
def _trained_terms() -> dict[str, set[str]]:
    """The lexicon terms (both languages) the model was trained with, by polarity."""
    both = model().values()
    return {sign: {t for p in both for t in p["terms"][sign]} for sign in ("+", "-")}


def _without_cancelled(text: str, hits: list[tuple[str, int, bool]]) -> str:
    """The text without negated complaints (没有不耐烦, never rude): neither praise nor
    complaint, so the model does not read the complaint's words either."""
    lex = lexicon()
    for term, polarity, negated in hits:
        if negated and polarity < 0:
            zh = "|".join(re.escape(n) for n in lex["neg_zh"])
            en = "|".join(re.escape(n) for n in lex["neg_en"])
            text = re.sub(rf"(?:{zh}).?{re.escape(term)}", " ", text)
            text = re.sub(rf"(?i)\b(?:{en}|\w+n't)\b(?:\W+\w+){{0,2}}?\W+{re.escape(term)}\b",
                          " ", text)  # fmt: skip
    return text


def _top(contributions: dict[str, float], label: str, k: int = 4, skip=()) -> list[str]:
    """The n-grams that pushed most toward the label: among the eight strongest, the longest
    forms (很差 rather than 差 and 很差) and none the lexicon already shows."""
    if label == "neutral":
        return []
    sign = 1 if label == "negative" else -1
    ranked = sorted(
        (f for f, c in contributions.items() if c * sign > 0.15),
        key=lambda f: -contributions[f] * sign,
    )[:8]
    shown = [_show(f) for f in ranked if not _PUNCT_MIX.search(_show(f))]
    kept = [
        text
        for i, text in enumerate(shown)
        if not any(text in s for s in skip)
        and not any(text in other for j, other in enumerate(shown) if j != i)
    ]
    return list(dict.fromkeys(kept))[:k]


def classify(text: str | None) -> str:
    return analyse(text).label


# --- emotions --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _emotion_cues() -> dict:
    cues = _raw().get("emotions") or {}
    return {
        name: {
            "terms": [str(t).lower() for t in [*(c.get("zh") or []), *(c.get("en") or [])]],
            "patterns": [re.compile(p) for p in c.get("patterns") or []],
            "needs": c.get("needs"),
        }
        for name, c in cues.items()
    }


def emotions(text: str | None, label: str | None = None) -> list[str]:
    """Emotion tags shown by the text: anger (愤怒), confusion (困惑), satisfaction (满意).
    A tag with `needs: negative` (or positive) applies only to a comment with that label."""
    if not text:
        return []
    label = label or classify(text)
    low = unicodedata.normalize("NFKC", str(text)).lower().replace("’", "'")
    words = set(_WORD.findall(low))
    tags = []
    for name, cue in _emotion_cues().items():
        if cue["needs"] and cue["needs"] != label:
            continue
        hit = any(p.search(low) for p in cue["patterns"]) or any(
            (t in words) if _WORD.fullmatch(t) else (t in low) for t in cue["terms"]
        )
        if hit:
            tags.append(name)
    return tags


def label_name(label: str, lang: str) -> str:

    return t(f"sentiment.{label}", lang)


def emotion_label(name: str, lang: str) -> str:

    return t(f"emotion.{name}", lang)


# --- stored results --------------------------------------------------------------------


def stored(con, texts) -> dict[str, Result]:
    """The result for each distinct text, classified once per model and lexicon version and
    kept in the `comment_sentiment` table; texts not seen before are classified and saved."""
    wanted = sorted({t for t in texts if isinstance(t, str) and t})
    if not wanted:
        return {}
    import duckdb

    ver = version()
    cur = con.cursor()
    found = {}
    try:
        rows = cur.execute(
            "SELECT comment, label, score, lexicon, features, override, emotions "
            "FROM comment_sentiment WHERE version = $v AND comment IN (SELECT unnest($t))",
            {"v": ver, "t": wanted},
        ).fetchall()
    except duckdb.CatalogException:  # a store opened read-only before migration 8
        return {t: analyse(t) for t in wanted}
    for comment, label, score, lex, feats, over, emo in rows:
        found[comment] = Result(label, score, json.loads(lex), json.loads(feats),
                                json.loads(over), json.loads(emo))  # fmt: skip
    missing = [t for t in wanted if t not in found]
    if missing:
        fresh = {t: analyse(t) for t in missing}
        found.update(fresh)
        _save(cur, ver, fresh)
    return found


def _save(cur, ver: str, fresh: dict[str, Result]) -> None:
    import duckdb
    import pyarrow as pa

    table = pa.table({
        "comment": list(fresh),
        "version": [ver] * len(fresh),
        "label": [r.label for r in fresh.values()],
        "score": [float(r.score) for r in fresh.values()],
        "lexicon": [json.dumps(r.lexicon, ensure_ascii=False) for r in fresh.values()],
        "features": [json.dumps(r.features, ensure_ascii=False) for r in fresh.values()],
        "override": [json.dumps(r.override, ensure_ascii=False) for r in fresh.values()],
        "emotions": [json.dumps(r.emotions) for r in fresh.values()],
    })  # fmt: skip
    with WRITE_LOCK:
        cur.register("__fresh_sentiment", table)
        try:
            cur.execute(
                "INSERT OR REPLACE INTO comment_sentiment "
                "SELECT comment, version, label, score, lexicon, features, override, emotions, "
                "current_timestamp FROM __fresh_sentiment"
            )
        except duckdb.Error:  # a read-only store: the results are used but not kept
            pass
        finally:
            cur.unregister("__fresh_sentiment")


# --- themes and forbidden phrases ------------------------------------------------------


@lru_cache(maxsize=1)
def _extras() -> dict:
    return _raw()


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


def reload() -> None:
    """Forget the cached lexicon and model (after the YAML or the model file changed)."""
    for cached in (lexicon, model, version, _emotion_cues, _extras, _trained_terms):
        cached.cache_clear()

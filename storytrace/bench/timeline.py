"""`storytrace bench timeline`: event ordering on the SemEval-2015 Task 4 (TimeLine) gold timelines.

A simple, clear measure rather than the task's temporal-awareness scorer (not copied): every gold event
mention (``docid-sentence-token``) is dated by the system the way the ``timeline`` stage dates events: the
first day-level DATE/TIME in its sentence, resolved against the document's DCT, else the DCT itself. Over
all pairs of mentions in one gold timeline whose gold dates are anchored (``YYYY-MM-DD``) and differ, it
reports pairwise order accuracy (the system's dates order the pair the same way; a tie counts as wrong)
and the share of mentions whose system date equals the gold date. Splits: corpus_1, corpus_2, corpus_3,
all (the three evaluation corpora; the trial data is not scored).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from storytrace.errors import InputError
from storytrace.nlp import timex

_TOKEN = re.compile(r'<token[^>]*sentence="(\d+)"[^>]*>([^<]*)</token>')


def _root(data: Path) -> Path:
    for candidate in (data / "semeval2015-timeline" / "SemEval_Task4_data", data / "SemEval_Task4_data", data):
        if (candidate / "corpus_1").is_dir():
            return candidate
    raise InputError(f"no SemEval-2015 Task 4 corpora under {data}: pass the semeval2015-timeline folder", code="E401")


def _documents(corpus: Path) -> dict[str, tuple[dict[int, str], date | None]]:
    docs: dict[str, tuple[dict[int, str], date | None]] = {}
    for path in sorted((corpus / "corpus_trackA_CAT").glob("*.xml")):
        doc_id = path.name.split("_", 1)[0]
        sentences: dict[int, list[str]] = defaultdict(list)
        for m in _TOKEN.finditer(path.read_text(encoding="utf-8", errors="replace")):
            sentences[int(m[1])].append(m[2])
        dct = None
        tml = corpus / "corpus_trackA_TimeML" / (path.name.removesuffix(".txt.xml") + ".tml")
        text = tml.read_text(errors="replace") if tml.exists() else ""
        if m := re.search(r'<DCT>.*?value="(\d{4}-\d\d-\d\d)', text, re.S):
            dct = date.fromisoformat(m[1])
        docs[doc_id] = ({s: " ".join(t) for s, t in sentences.items()}, dct)
    return docs


def _system_date(sentence: str, dct: date) -> date:
    for t in timex.find(sentence, dct=dct):
        if t.type in ("DATE", "TIME") and (d := timex._date_of(t.value)) is not None:
            return d
    return dct


def run(data: Path, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Score event dating and ordering on the gold timelines of the chosen corpora."""
    root = _root(data)
    names = ["corpus_1", "corpus_2", "corpus_3"] if split == "all" else [split]
    if any(not (root / n).is_dir() for n in names):
        raise InputError(f"unknown split {split!r}: use corpus_1, corpus_2, corpus_3 or all", code="E402")
    pairs = correct = mentions = exact = timelines = 0
    for name in names:
        docs = _documents(root / name)
        gold_files = sorted((root / name / "TimeLines_Gold_Standard").glob("*.txt"))
        for gold in gold_files[:limit] if limit else gold_files:
            timelines += 1
            items: list[tuple[date, date]] = []
            for line in gold.read_text(encoding="utf-8").splitlines()[1:]:
                parts = line.split("\t")
                if len(parts) < 3 or not re.fullmatch(r"\d{4}-\d\d-\d\d", parts[1]):
                    continue
                doc_id, sent = parts[2].split("-")[:2]
                if doc_id not in docs or docs[doc_id][1] is None:
                    continue
                sentences, dct = docs[doc_id]
                assert dct is not None
                system = _system_date(sentences.get(int(sent), ""), dct)
                items.append((date.fromisoformat(parts[1]), system))
            mentions += len(items)
            exact += sum(g == s for g, s in items)
            for i in range(len(items)):
                for j in range(i + 1, len(items)):
                    (g1, s1), (g2, s2) = items[i], items[j]
                    if g1 == g2:
                        continue
                    pairs += 1
                    correct += (g1 < g2) == (s1 < s2) and s1 != s2
    return {"split": split, "timelines": timelines, "anchored_mentions": mentions,
            "date_accuracy": exact / mentions if mentions else 0.0, "ordered_pairs": pairs,
            "pairwise_order_accuracy": correct / pairs if pairs else 0.0}

"""`storytrace bench timex`: TIMEX3 extraction and normalisation scored TempEval-3 style (Task A).

Splits of the ``tempeval3`` folder (see its README):

* ``train``: TBAQ-cleaned (TimeBank + AQUAINT) without the held-out files; the only part rules were tuned on;
* ``heldout``: a fixed fifth of TBAQ-cleaned (every fifth file in name order, ``_heldout``), never tuned on;
* ``test`` / ``platinum``: the 20 platinum documents (``Evaluation/te3-platinum/*.tml``), held back for
  final scoring; the system's input is the text and DCT, as in ``TE3-platinum-test/*.tml.TE3input``.

Scores, as the TempEval-3 scorer defines them: a system expression matches a gold one strictly when the
character extents are equal, relaxed when they overlap (each gold expression matched at most once).
Span P/R/F1 for both; attribute F1 for ``value`` and ``type`` counts a relaxed match as correct when the
attribute is equal: P = correct / system expressions, R = correct / gold expressions (= relaxed F1 x
attribute accuracy). The DCT itself (``functionInDocument="CREATION_TIME"``) is not scored.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

from storytrace.errors import InputError
from storytrace.nlp import timex

_TAG = re.compile(r"<(/?)(\w+)([^>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class GoldTimex:
    start: int
    end: int
    text: str
    type: str
    value: str


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    dct: date | None
    gold: tuple[GoldTimex, ...]


def parse(path: Path) -> Document:
    """Read one TimeML file: the text inside <TEXT> with tags removed, its TIMEX3s and the DCT."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    dct = None
    m = re.search(r"<DCT>.*?value=\"(\d{4})-?(\d\d)-?(\d\d)", raw, re.S)
    if m:
        dct = date(int(m[1]), int(m[2]), int(m[3]))
    body = raw.split("<TEXT>", 1)[-1].split("</TEXT>", 1)[0]
    out: list[str] = []
    pos = 0
    length = 0
    gold: list[GoldTimex] = []
    open_timex: tuple[int, dict[str, str]] | None = None
    for tag in _TAG.finditer(body):
        piece = unescape(body[pos:tag.start()])
        out.append(piece)
        length += len(piece)
        pos = tag.end()
        closing, name = tag[1], tag[2]
        if name != "TIMEX3":
            continue
        if not closing:
            open_timex = (length, dict(_ATTR.findall(tag[3])))
        elif open_timex is not None:
            start, attrs = open_timex
            text = "".join(out)[start:length]
            gold.append(GoldTimex(start, length, text, attrs.get("type", ""), attrs.get("value", "")))
            open_timex = None
    out.append(unescape(body[pos:]))
    return Document(path.stem.replace(".tml", ""), "".join(out), dct, tuple(gold))


def _heldout(files: list[Path]) -> set[Path]:
    return {f for i, f in enumerate(sorted(files, key=lambda p: p.name)) if i % 5 == 0}


def files(data: Path, split: str) -> list[Path]:
    """The TimeML files of a split (see the module docstring)."""
    root = data / "tempeval3" if (data / "tempeval3").is_dir() else data
    if split in ("test", "platinum"):
        found = sorted((root / "Evaluation" / "te3-platinum").glob("*.tml"))
        if not found:
            raise InputError(f"no platinum files in {root / 'Evaluation' / 'te3-platinum'} (held back?)", code="E401")
        return found
    tbaq = root / "Training" / "TBAQ-cleaned"
    every = sorted([*(tbaq / "TimeBank").glob("*.tml"), *(tbaq / "AQUAINT").glob("*.tml")], key=lambda p: p.name)
    if not every:
        raise InputError(f"no TimeML files under {tbaq}: pass the tempeval3 folder with --data", code="E401")
    held = _heldout(every)
    if split == "heldout":
        return [f for f in every if f in held]
    if split == "train":
        return [f for f in every if f not in held]
    raise InputError(f"unknown split {split!r}: use train, heldout or test (platinum)", code="E402")


def score(gold: list[list[GoldTimex]], found: list[list[timex.Timex]]) -> dict[str, Any]:
    """TempEval-3 Task A figures over documents (lists aligned)."""
    n_gold = sum(len(g) for g in gold)
    n_sys = sum(len(s) for s in found)
    strict = relaxed = value_ok = type_ok = 0
    for g_list, s_list in zip(gold, found, strict=True):
        used: set[int] = set()
        for s in s_list:
            for i, g in enumerate(g_list):
                if i in used or not (s.start < g.end and g.start < s.end):
                    continue
                used.add(i)
                relaxed += 1
                strict += (s.start, s.end) == (g.start, g.end)
                value_ok += s.value == g.value
                type_ok += s.type == g.type
                break

    def prf(correct: int) -> dict[str, float]:
        p = correct / n_sys if n_sys else 0.0
        r = correct / n_gold if n_gold else 0.0
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}

    return {"gold": n_gold, "system": n_sys, "strict": prf(strict), "relaxed": prf(relaxed),
            "value": prf(value_ok), "type": prf(type_ok),
            "value_accuracy": value_ok / relaxed if relaxed else 0.0}


def run(data: Path, *, split: str = "test", limit: int | None = None) -> dict[str, Any]:
    """Score ``storytrace.nlp.timex.find`` on a TempEval-3 split; return JSON-serialisable figures."""
    paths = files(data, split)[:limit] if limit else files(data, split)
    docs = [parse(p) for p in paths]
    t0 = time.perf_counter()
    found = [timex.find(d.text, dct=d.dct) for d in docs]
    elapsed = time.perf_counter() - t0
    figures = score([list(d.gold) for d in docs], found)
    figures.update({"split": split, "documents": len(docs), "seconds": round(elapsed, 3)})
    return figures


def errors(data: Path, *, split: str = "train", limit: int | None = None) -> Counter[str]:
    """Tally misses, spurious expressions and wrong values (for error analysis on the training split)."""
    tally: Counter[str] = Counter()
    for path in files(data, split)[:limit] if limit else files(data, split):
        doc = parse(path)
        found = timex.find(doc.text, dct=doc.dct)
        for g in doc.gold:
            hit = next((s for s in found if s.start < g.end and g.start < s.end), None)
            if hit is None:
                tally[f"miss  {g.type:8} {g.text.lower()!r} {g.value}"] += 1
            elif hit.value != g.value:
                tally[f"value {g.text!r} gold={g.value} sys={hit.value} ({hit.text!r})"] += 1
        for s in found:
            if not any(s.start < g.end and g.start < s.end for g in doc.gold):
                tally[f"spur  {s.type:8} {s.text.lower()!r}"] += 1
    return tally

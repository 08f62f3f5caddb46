"""Benchmark the English pipeline: tagging, parsing, sentences, NER and speed.

    storytrace bench nlp --data ../shared/data [--split test] [--limit N] [--json]
    python -m storytrace.bench.nlp --data ../shared/data --split test [--model accurate|PATH]
    STORYTRACE_BENCH_NLP_MODEL=accurate storytrace bench nlp --data ../shared/data

``--model`` (or the ``STORYTRACE_BENCH_NLP_MODEL`` environment variable) names the pipeline: ``fast`` (the
shipped CNN one, the default), ``accurate`` (the MiniLM one, ``storytrace.nlp.encoder``) or a trained model folder.

Sets (``split`` = dev or test):
- ``ewt``: UD English-EWT; ``gum``: GUM, all genres (NC genres are fine for evaluation);
  ``gum_news``: GUM's news documents alone.
- NER on ``uner_ewt`` (UniversalNER PER/ORG/LOC; our GPE and LOC both count as LOC, NORP and DATE
  are not in that scheme and are ignored) and ``gum_silver`` (the silver layer of
  ``storytrace.bench.ud``, all six labels).

Protocol: the pipeline (with its rule components, as shipped) runs on whole documents with gold
tokenisation; paragraph breaks are kept as line-break tokens, as in real text, and are not scored.
Sentence boundaries are predicted. LAS/UAS follow CoNLL 2018 (every word including punctuation,
universal relation without subtype); ``las_spacy``/``uas_spacy`` follow spaCy's scorer (punctuation
excluded, full labels). Sentence F is exact-span F1 over gold sentences. Speed is measured on the raw
text of the same documents (tokenizer included), with 1 and 2 processes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storytrace.bench import ud
from storytrace.errors import BenchmarkError

NEWLINE = "\n"


@dataclass
class GoldDoc:
    """One gold document as words, with the indices of paragraph-break tokens added for input."""

    doc: ud.Document
    words: list[ud.Word]  # gold words, document order
    sent_spans: list[tuple[int, int]]  # gold sentences as word-index spans
    tokens: list[str]  # input tokens: the words plus a line break at each paragraph break
    spaces: list[bool]
    word_of_token: list[int]  # input token -> gold word index, -1 for a line break
    heads: list[int]  # gold head word index (self for the root)

    @property
    def text(self) -> str:
        return "".join(t + (" " if s else "") for t, s in zip(self.tokens, self.spaces, strict=True))


def gold_doc(doc: ud.Document) -> GoldDoc:
    words: list[ud.Word] = []
    spans: list[tuple[int, int]] = []
    tokens: list[str] = []
    spaces: list[bool] = []
    word_of: list[int] = []
    heads: list[int] = []
    for k, sent in enumerate(doc.sentences):
        if k and sent.newpar:
            spaces[-1] = False
            tokens.append(NEWLINE)
            spaces.append(False)
            word_of.append(-1)
        offset = len(words)
        for j, w in enumerate(sent.words):
            words.append(w)
            heads.append(offset + (w.head - 1 if w.head else j))
            tokens.append(w.form)
            spaces.append(w.space)
            word_of.append(offset + j)
        spans.append((offset, len(words)))
        if spaces:
            spaces[-1] = True
    if spaces:
        spaces[-1] = False
    return GoldDoc(doc, words, spans, tokens, spaces, word_of, heads)


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(100 * p, 2), "r": round(100 * r, 2), "f": round(100 * f, 2), "gold": n_gold, "pred": n_pred}


def _pct(num: int, den: int) -> float:
    return round(100 * num / den, 2) if den else 0.0


def _universal(dep: str) -> str:
    return dep.split(":")[0].lower()


def score_parse(pairs: Iterable[tuple[GoldDoc, Any]]) -> dict[str, Any]:
    """Tagging, lemma, morphology, attachment and sentence scores over (gold, predicted Doc) pairs."""
    c: Counter[str] = Counter()
    for gold, pred in pairs:
        token_of_word = [i for i, w in enumerate(gold.word_of_token) if w >= 0]
        for wi, w in enumerate(gold.words):
            tok = pred[token_of_word[wi]]
            c["words"] += 1
            c["upos"] += tok.pos_ == w.upos
            c["xpos"] += tok.tag_ == w.xpos
            c["lemma"] += tok.lemma_ == w.lemma
            c["ufeats"] += set(filter(None, str(tok.morph).split("|"))) == set(filter(None, w.feats.split("|")))
            head = gold.word_of_token[tok.head.i]
            head_ok = head == gold.heads[wi]
            c["uas"] += head_ok
            c["las"] += head_ok and _universal(tok.dep_) == _universal(w.deprel)
            if w.upos != "PUNCT":
                c["words_nopunct"] += 1
                c["uas_spacy"] += head_ok
                c["las_spacy"] += head_ok and tok.dep_.lower() == w.deprel.lower()
        pred_spans = set()
        for sent in pred.sents:
            idx = [gold.word_of_token[t.i] for t in sent if gold.word_of_token[t.i] >= 0]
            if idx:
                pred_spans.add((idx[0], idx[-1] + 1))
        gold_spans = set(gold.sent_spans)
        c["sent_tp"] += len(pred_spans & gold_spans)
        c["sent_pred"] += len(pred_spans)
        c["sent_gold"] += len(gold_spans)
    sents = _prf(c["sent_tp"], c["sent_pred"], c["sent_gold"])
    out: dict[str, Any] = {"words": c["words"], "sentences": c["sent_gold"]}
    for key in ("upos", "xpos", "ufeats", "lemma", "uas", "las"):
        out[key] = _pct(c[key], c["words"])
    for key in ("uas_spacy", "las_spacy"):
        out[key] = _pct(c[key], c["words_nopunct"])
    out.update({"sent_p": sents["p"], "sent_r": sents["r"], "sent_f": sents["f"]})
    return out


def _pred_ents(gold: GoldDoc, pred: Any, mapping: dict[str, str] | None) -> set[tuple[int, int, str]]:
    out = set()
    for ent in pred.ents:
        idx = [gold.word_of_token[t.i] for t in ent if gold.word_of_token[t.i] >= 0]
        label = ent.label_ if mapping is None else mapping.get(ent.label_)
        if idx and label:
            out.add((idx[0], idx[-1] + 1, label))
    return out


def score_ner(
    triples: Iterable[tuple[GoldDoc, Any, set[tuple[int, int, str]]]], *, mapping: dict[str, str] | None = None
) -> dict[str, Any]:
    """Exact-span P/R/F per label and micro-averaged, over (gold, predicted Doc, gold entities)."""
    tp: Counter[str] = Counter()
    npred: Counter[str] = Counter()
    ngold: Counter[str] = Counter()
    for gold, pred, gold_ents in triples:
        pred_ents = _pred_ents(gold, pred, mapping)
        for s in pred_ents:
            npred[s[2]] += 1
        for s in gold_ents:
            ngold[s[2]] += 1
        for s in pred_ents & gold_ents:
            tp[s[2]] += 1
    labels = sorted(set(ngold) | set(npred))
    return {
        "micro": _prf(sum(tp.values()), sum(npred.values()), sum(ngold.values())),
        "per_label": {lbl: _prf(tp[lbl], npred[lbl], ngold[lbl]) for lbl in labels},
    }


def _doc_ents(gold: GoldDoc, iob_of: Any) -> set[tuple[int, int, str]]:
    """Gold entity spans in word indices from per-sentence IOB tags (missing tags are 'O' here)."""
    tags: list[str] = []
    for sent in gold.doc.sentences:
        tags.extend(iob_of(sent))
    return set(ud._spans_from_iob([t or "O" for t in tags]))


def _uner_tags(uner: dict[str, list[tuple[str, str]]]) -> Any:
    names = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC"}

    def tags(sent: ud.Sentence) -> list[str]:
        rows = uner.get(sent.sent_id)
        if rows is None or [r[0] for r in rows] != [w.form for w in sent.words]:
            return ["O"] * len(sent.words)  # unaligned sentence: nothing gold, predictions still count
        out = []
        for _, tag in rows:
            label = names.get(tag[2:]) if tag != "O" else None
            out.append(f"{tag[:2]}{label}" if label else "O")
        return out

    return tags


def _run(nlp: Any, golds: Sequence[GoldDoc]) -> list[Any]:
    from spacy.tokens import Doc

    docs = [Doc(nlp.vocab, words=g.tokens, spaces=g.spaces) for g in golds]
    return list(nlp.pipe(docs, batch_size=16))


def _count_words(nlp_path: Path | None, texts: list[str]) -> int:
    """Run the whole pipeline over ``texts``; the number of words (space tokens not counted)."""
    from storytrace.nlp import load

    return sum(sum(1 for t in doc if not t.is_space) for doc in load(nlp_path).pipe(texts, batch_size=32))


def measure_speed(nlp_path: Path | None, texts: list[str], *, processes: int) -> dict[str, float]:
    """Words per second on raw texts (tokenizer and rules included), after a warm-up.

    With more than one process the texts are shared out over the project's forked pool (``storytrace.pool``, as
    ``analyze --jobs N`` runs the pipeline), each worker parsing its share and returning a count. spaCy's own
    ``n_process`` was used before session 5: it sends every Doc back to the parent, which then does most of
    the work again (2,044 -> 2,434 words/s from 1 to 2 processes on a quiet machine).
    """
    from storytrace.nlp import load
    from storytrace.pool import process_pool

    nlp = load(nlp_path)  # loaded before the fork: the workers start with it
    list(nlp.pipe(texts[:4]))
    pool = process_pool(processes)
    start = time.perf_counter()
    if pool is None:
        words = _count_words(nlp_path, texts)
    else:
        with pool:
            shares = [texts[i::processes * 4] for i in range(processes * 4)]  # several per worker: even finish
            words = sum(pool.map(_count_words, [nlp_path] * len(shares), shares))
    elapsed = time.perf_counter() - start
    return {"words": words, "seconds": round(elapsed, 2), "wps": round(words / elapsed), "processes": processes}


def _check(data: Path) -> None:
    for part in ("ud-english-ewt", "uner-english-ewt", "gum"):
        if not (data / part).is_dir():
            raise BenchmarkError(f"benchmark data not found: {data / part} (expected ../shared/data/{part})")


def run(
    data: Path,
    *,
    split: str = "test",
    limit: int | None = None,
    model: str | Path | None = None,
    speed: bool = True,
) -> dict[str, Any]:
    """Score the English pipeline on UD EWT / GUM / UNER ``split``; return JSON-serialisable figures.

    ``limit`` keeps the first N documents of each set (a fixed slice, for the quality gate);
    ``model`` benchmarks another pipeline: "accurate", or a trained model directory (default: the
    ``STORYTRACE_BENCH_NLP_MODEL`` environment variable, else the shipped fast one).
    """
    import spacy

    from storytrace.nlp import load, model_meta
    from storytrace.nlp.pipeline import model_dir

    model = model_dir(model or os.environ.get("STORYTRACE_BENCH_NLP_MODEL") or None)

    data = Path(data)
    if split not in ("dev", "test"):
        raise BenchmarkError(f"unknown split {split!r}: use dev or test")
    _check(data)
    ewt_docs = ud.read_ewt(data, split)
    gum_docs = ud.read_gum(data, split, nc=True)
    if limit:
        news_docs = [d for d in gum_docs if d.genre == "news"][:limit]
        ewt_docs, gum_docs = ewt_docs[:limit], gum_docs[:limit]
        gum_docs += [d for d in news_docs if d not in gum_docs]
    nlp = load(model)
    ewt = [gold_doc(d) for d in ewt_docs]
    gum = [gold_doc(d) for d in gum_docs]
    t0 = time.perf_counter()
    ewt_pred = _run(nlp, ewt)
    gum_pred = _run(nlp, gum)
    elapsed = time.perf_counter() - t0
    news = [(g, p) for g, p in zip(gum, gum_pred, strict=True) if g.doc.genre == "news"]
    uner = ud.read_iob2(data / "uner-english-ewt" / f"en_ewt-ud-{split}.iob2")
    uner_tags = _uner_tags(uner)
    meta = model_meta(model)
    result: dict[str, Any] = {
        "model": {
            "name": meta.get("name"),
            "version": meta.get("version"),
            "spacy": spacy.about.__version__,
            "pipeline": nlp.pipe_names,
        },
        "split": split,
        "limit": limit,
        "parse": {
            "ewt": score_parse(zip(ewt, ewt_pred, strict=True)),
            "gum": score_parse(zip(gum, gum_pred, strict=True)),
            "gum_news": score_parse(news),
        },
        "ner": {
            "uner_ewt": score_ner(
                ((g, p, _doc_ents(g, uner_tags)) for g, p in zip(ewt, ewt_pred, strict=True)),
                mapping={"PERSON": "PERSON", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC"},
            ),
            "gum_silver": score_ner(
                (g, p, _doc_ents(g, lambda s: s.ents or ["O"] * len(s.words)))
                for g, p in zip(gum, gum_pred, strict=True)
            ),
        },
        "scoring_wps": round(sum(len(g.tokens) for g in ewt + gum) / elapsed),
    }
    if speed:
        texts = [g.text for g in gum + ewt]
        result["speed"] = {
            "processes_1": measure_speed(model, texts, processes=1),
            "processes_2": measure_speed(model, texts, processes=2),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    return result


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue's targets name, flat."""
    parse, ner = result["parse"], result["ner"]
    out = {
        "ewt_las": parse["ewt"]["las"],
        "gum_las": parse["gum"]["las"],
        "ewt_upos": parse["ewt"]["upos"],
        "gum_upos": parse["gum"]["upos"],
        "gum_news_sent_f": parse["gum_news"]["sent_f"],
        "uner_person_f": ner["uner_ewt"]["per_label"].get("PERSON", {}).get("f", 0.0),
        "uner_org_f": ner["uner_ewt"]["per_label"].get("ORG", {}).get("f", 0.0),
    }
    if "speed" in result:
        out["wps_1"] = result["speed"]["processes_1"]["wps"]
        out["wps_2"] = result["speed"]["processes_2"]["wps"]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--model", default=None, help="fast (default), accurate, or a trained model folder")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = run(args.data, split=args.split, limit=args.limit, model=args.model, speed=not args.no_speed)
    print(json.dumps(result if args.json else headline(result), indent=2))


if __name__ == "__main__":
    main()

"""The English pipeline: loading, rule components, seed articles, and a quality gate with pinned floors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from storytrace.errors import ModelError
from storytrace.nlp import load, model_meta
from storytrace.nlp.pipeline import MODEL_DIR, build, check_compatible
from storytrace.nlp.rules import SENTENCE_END, EntityRules, EntitySpans, QuoteBoundaries, _is_opening
from tests.conftest import ROOT, require_data

# Every person each seed article names (by surname), checked to be tagged PERSON at least once there.
SEED_PEOPLE = {
    "000_4b265e9908216e3e.txt": [
        "Corbyn",
        "McCluskey",
        "Kinnock",
        "McDonnell",
        "Blair",
        "Salmond",
        "Leckie",
        "Marr",
    ],
    "001_5eab56d17bbf0643.txt": [
        "Corbyn",
        "Watson",
        "McCluskey",
        "Marr",
        "Eagle",
        "Hamilton",
        "Smeeth",
        "Mortimer",
    ],
    "002_f5f0807e30fc34e7.txt": [
        "Watson",
        "Corbyn",
        "Kinnock",
        "Eagle",
        "Smith",
        "McCluskey",
        "Lawson",
        "Prescott",
    ],
    "003_cfce1aa51925a04d.txt": ["Watson", "Corbyn", "McDonnell", "McCluskey", "Peston", "Blair"],
    "004_2eff0df1e710e36d.txt": ["Corbyn", "McCluskey", "Cortes", "Schneider", "Cameron", "Neal"],
}

# Quality gate: the shipped pipeline on a fixed slice (first GATE_DOCS documents of each test set).
# Floors sit a little under the measured figures (docs/benchmarks.md) so that noise does not fail CI
# but a real regression does.
GATE_DOCS = 8
GATE_FLOORS = {  # measured on this slice with model 0.1.0: 95.13, 79.60, 96.43, 82.57, 92.02, 69.28, 59.89
    ("parse", "ewt", "upos"): 93.0,
    ("parse", "ewt", "las"): 77.0,
    ("parse", "gum", "upos"): 95.0,
    ("parse", "gum", "las"): 80.0,
    ("parse", "gum_news", "sent_f"): 90.0,
    ("ner", "uner_ewt", "micro", "f"): 65.0,
    ("ner", "gum_silver", "micro", "f"): 56.0,
}


@pytest.fixture(scope="module")
def nlp() -> spacy.language.Language:
    return load()


@pytest.fixture(scope="module", params=["fast", "accurate"])
def either(request: pytest.FixtureRequest) -> spacy.language.Language:
    """Each shipped pipeline in turn (the accurate one where the 'embeddings' extra is installed)."""
    from storytrace.nlp.pipeline import unavailable

    if (why := unavailable(request.param)) is not None:
        pytest.skip(why)
    return load(request.param)


@pytest.fixture(scope="module")
def blank() -> spacy.language.Language:
    return spacy.blank("en")


# --- loading -----------------------------------------------------------------------------------------


def test_load_is_cached_and_offline(nlp: spacy.language.Language) -> None:
    assert load() is nlp
    assert nlp.pipe_names[-2:] == ["storytrace_entity_rules", "storytrace_entity_spans"]
    assert nlp.pipe_names.index("storytrace_quote_boundaries") < nlp.pipe_names.index("parser")
    assert {"tagger", "morphologizer", "trainable_lemmatizer", "parser", "ner"} <= set(nlp.pipe_names)


def test_matrix_products_go_to_numpys_blas_with_blis_results() -> None:
    """Every layer of the loaded pipeline runs on ``BlasOps`` (blis 1.3 is ~3x slower here), whose products are blis's
    up to float rounding, transposed or not, into a given output or a new array; the parse is the same either way."""
    import numpy
    from thinc.api import NumpyOps

    from storytrace.nlp.pipeline import BlasOps

    nlp = build()
    layers = [node for _, c in nlp.components if hasattr(getattr(c, "model", None), "walk") for node in c.model.walk()]
    assert layers and all(isinstance(node.ops, BlasOps) for node in layers)
    rng = numpy.random.default_rng(0)
    x, y = rng.random((7, 5), dtype="float32"), rng.random((5, 3), dtype="float32")
    blas, blis = BlasOps(), NumpyOps()
    for trans1, trans2 in ((False, False), (True, False), (False, True), (True, True)):
        a, b = (x.T.copy() if trans1 else x), (y.T.copy() if trans2 else y)
        expected = blis.gemm(a, b, trans1=trans1, trans2=trans2)
        assert numpy.allclose(blas.gemm(a, b, trans1=trans1, trans2=trans2), expected, atol=1e-5)
        out = numpy.zeros_like(expected)
        assert blas.gemm(a, b, out=out, trans1=trans1, trans2=trans2) is out
        assert numpy.allclose(out, expected, atol=1e-5)
    text = "Len McCluskey, the general secretary of Unite, said on Sunday that Jeremy Corbyn would stay."
    ours = nlp(text)
    for _, component in nlp.components:  # the same weights on blis
        if hasattr(getattr(component, "model", None), "walk"):
            for node in component.model.walk():
                node.ops = blis
    theirs = nlp(text)
    assert [(t.dep_, t.head.i, t.ent_type_) for t in ours] == [(t.dep_, t.head.i, t.ent_type_) for t in theirs]


def test_shipped_model_is_versioned_with_scores_and_data_hashes() -> None:
    meta = model_meta()
    assert meta["name"] == "storytrace_en" and meta["version"]
    check_compatible(meta)
    scores = json.loads((MODEL_DIR / "scores.json").read_text())
    assert scores["parse"]["ewt"]["las"] > 0
    hashes = json.loads((MODEL_DIR / "data_hashes.json").read_text())
    assert all(len(h) == 64 for h in hashes["sources"].values())
    assert set(hashes["excluded_gum_genres"]) == {"whow", "fiction", "essay", "letter", "podcast"}
    size = sum(f.stat().st_size for f in MODEL_DIR.rglob("*") if f.is_file())
    assert size < 30_000_000


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        build(tmp_path / "nowhere")


def test_incompatible_spacy_version_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="built for spaCy"):
        check_compatible({"spacy_version": ">=3.8.0,<3.9.0"}, spacy_version="4.0.0")
    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model)
    meta = json.loads((model / "meta.json").read_text())
    meta["spacy_version"] = ">=2.0.0,<2.1.0"
    (model / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="spaCy"):
        build(model)


# --- rules on hand-built text ----------------------------------------------------------------------------


def _starts(doc: Doc) -> dict[str, bool | None]:
    return {t.text: t.is_sent_start for t in doc}


def test_opening_quote_after_full_stop_starts_a_sentence(blank: spacy.language.Language) -> None:
    doc = blank("He backed Corbyn. “It is almost unbelievable,” he said.")
    QuoteBoundaries(blank)(doc)
    assert doc[4].text == "“" and doc[4].is_sent_start is True
    # the attribution after the closing quotation mark stays with the quotation
    assert [t.is_sent_start for t in doc[11:13]] == [False, False]


def test_quote_after_colon_or_inside_a_sentence_is_left_to_the_parser(blank: spacy.language.Language) -> None:
    doc = blank('He said: "This has failed." It was "outrageous" that they spoke.')
    QuoteBoundaries(blank)(doc)
    assert doc[3].text == '"' and doc[3].is_sent_start is None
    assert doc[11].text == '"' and doc[11].is_sent_start is None


def test_named_attribution_after_a_quote_stays_in_the_sentence(blank: spacy.language.Language) -> None:
    doc = blank("“The coup has failed,” Len McCluskey told the BBC.")
    QuoteBoundaries(blank)(doc)
    assert [doc[i].is_sent_start for i in range(7, 10)] == [False, False, False]


def test_line_break_starts_a_sentence(blank: spacy.language.Language) -> None:
    doc = blank("Momentum prepares for a new campaign\n\nSupporters of Corbyn gear up")
    QuoteBoundaries(blank)(doc)
    assert doc[6].text == "\n\n" and doc[6].is_sent_start is True
    assert doc[7].is_sent_start is None


def test_titles_and_title_anchored_names(nlp: spacy.language.Language) -> None:
    doc = nlp("The deal was backed by shadow chancellor John McDonnell and Unite boss McCluskey.")
    assert {s.text.lower() for s in doc.spans["titles"]} >= {"shadow chancellor", "boss"}
    people = {e.text for e in doc.ents if e.label_ == "PERSON"}
    assert {"John McDonnell", "McCluskey"} <= people


def test_full_name_makes_repeated_surnames_persons(blank: spacy.language.Language) -> None:
    doc = blank("JEREMY Corbyn spoke . Later Jeremy Corbyn left and Corbyn 's allies cheered .")
    doc.set_ents([doc.char_span(doc.text.index("Jeremy"), doc.text.index(" left"), label="PERSON")])
    EntityRules(blank)(doc)
    assert [e.text for e in doc.ents if e.label_ == "PERSON"] == ["JEREMY Corbyn", "Jeremy Corbyn", "Corbyn"]


def test_a_model_entity_ending_in_a_title_and_a_name_gives_the_name_to_a_person(
    blank: spacy.language.Language,
) -> None:
    """The accurate pipeline read "Unite general secretary Len McCluskey" as one ORG (0.2.0, seed 000); a longer
    entity that does not end with the name ("McCluskey allies") stays the model's."""
    doc = blank("Unite general secretary Len\xa0McCluskey said . The Unite boss McCluskey allies met .")
    doc.set_ents([doc.char_span(0, doc.text.index(" said"), label="ORG"),
                  doc.char_span(doc.text.index("Unite boss"), doc.text.index(" met"), label="ORG")])
    EntityRules(blank)(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Unite", "ORG"), ("Len\xa0McCluskey", "PERSON"), ("Unite boss McCluskey allies", "ORG")]


def test_gazetteer_fills_gaps_but_never_overrides_the_model(blank: spacy.language.Language) -> None:
    doc = blank("Labour MPs in Newcastle and Welsh Tories met Leeds United .")
    doc.set_ents([doc.char_span(doc.text.index("Leeds"), doc.text.index(" ."), label="ORG")])
    EntityRules(blank)(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Labour", "NORP"),
        ("Newcastle", "GPE"),
        ("Welsh", "NORP"),
        ("Tories", "NORP"),
        ("Leeds United", "ORG"),
    ]


def test_general_election_is_not_a_person(nlp: spacy.language.Language) -> None:
    doc = nlp("The party is on course for a heavy General Election defeat.")
    assert not [e for e in doc.ents if e.label_ == "PERSON"]


def _spans(blank: spacy.language.Language, text: str, ents: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Run EntitySpans on ``text`` with the given (words, label) entities set in text order, as the NER would."""
    doc = blank(text)
    spans, at = [], 0
    for words, label in ents:
        at = doc.text.index(words, at)
        spans.append(doc.char_span(at, at + len(words), label=label))
        at += len(words)
    doc.set_ents(spans)
    EntitySpans(blank)(doc)
    return [(e.text, e.label_) for e in doc.ents]


def test_entity_spans_run_after_the_entity_rules(nlp: spacy.language.Language) -> None:
    names = nlp.pipe_names
    assert names.index("storytrace_entity_spans") == names.index("storytrace_entity_rules") + 1


def test_person_spans_leave_out_titles_roles_and_affiliations(blank: spacy.language.Language) -> None:
    text = "Our family has been trusting Doctor Hank with our teeth ."
    assert _spans(blank, text, [("Doctor Hank", "PERSON")]) == [("Hank", "PERSON")]
    text = "Coach : Melanie King , Bryan Hull - Analyst , Eduardo Tellechea"
    assert ("Bryan Hull", "PERSON") in _spans(blank, text, [("Bryan Hull - Analyst", "PERSON")])
    text = "Anthony Shadid of the Washington Post reveals that the warrants were ready ."
    assert _spans(blank, text, [("Anthony Shadid of the Washington Post", "PERSON")])[0] == ("Anthony Shadid", "PERSON")
    text = "Iyad Allawi and Minister of Defense Hazem Shaalan met ."  # a title alone is not a name: left as it was
    assert _spans(blank, text, [("Minister of Defense Hazem Shaalan", "PERSON")]) == [
        ("Minister of Defense Hazem Shaalan", "PERSON")
    ]


def test_two_names_run_together_are_split_at_the_second_first_name(blank: spacy.language.Language) -> None:
    text = "Attendees : Pam Butler Renee Ratcliff Larry Lewis"
    assert _spans(blank, text, [("Pam Butler Renee Ratcliff", "PERSON")]) == [
        ("Pam Butler", "PERSON"),
        ("Renee Ratcliff", "PERSON"),
    ]


def test_storms_are_not_persons(blank: spacy.language.Language) -> None:
    text = "Hurricane Rita hit Texas on Friday . Rita weakened over land ."
    assert _spans(blank, text, [("Hurricane Rita", "PERSON"), ("Texas", "GPE"), ("Rita", "PERSON")]) == [
        ("Texas", "GPE")
    ]


def test_organisations_by_their_head_word(blank: spacy.language.Language) -> None:
    text = "She worked at Rodale Press before she joined the U.S. Department of Housing and Urban Development ."
    assert _spans(blank, text, [("U.S.", "GPE")]) == [
        ("Rodale Press", "ORG"),
        ("U.S. Department of Housing and Urban Development", "ORG"),
    ]
    text = "Welcome to the Davis Administration ."  # a person's name inside stays the model's call
    assert _spans(blank, text, [("Davis", "PERSON")]) == [("Davis", "PERSON")]


def test_acronym_and_repeated_organisation_names(blank: spacy.language.Language) -> None:
    text = "The complaint names the Housing Authority of New Orleans ( HANO ) . HANO has not replied ."
    assert _spans(blank, text, [("New Orleans", "GPE")]) == [
        ("Housing Authority of New Orleans", "ORG"),
        ("HANO", "ORG"),
        ("HANO", "ORG"),
    ]


# --- the seed articles -------------------------------------------------------------------------------------


def test_every_person_in_the_seeds_is_tagged(either: spacy.language.Language, seed_texts: dict[str, str]) -> None:
    assert set(seed_texts) == set(SEED_PEOPLE)
    missing = {}
    for name, text in seed_texts.items():
        doc = either(text)
        tagged = " ".join(e.text for e in doc.ents if e.label_ == "PERSON").split()
        absent = [p for p in SEED_PEOPLE[name] if p not in tagged]
        if absent:
            missing[name] = absent
    assert not missing


def test_no_quotation_opening_is_glued_to_the_previous_sentence(
    either: spacy.language.Language, seed_texts: dict[str, str]
) -> None:
    glued = []
    for name, text in seed_texts.items():
        doc = either(text)
        for tok in doc:
            if tok.i == 0 or not _is_opening(doc, tok.i):
                continue
            k = tok.i - 1
            while k > 0 and doc[k].is_space:
                k -= 1
            line_break = any("\n" in t.text for t in doc[k + 1 : tok.i])
            if (line_break or doc[k].text in SENTENCE_END) and doc[k].sent == tok.sent:
                glued.append((name, doc[max(k - 5, 0) : tok.i + 5].text))
    assert not glued


# --- quality gate -----------------------------------------------------------------------------------------


# The accurate pipeline (0.2.0) on the same slice: 96.89, 87.93, 97.51, 84.37, 92.02, 86.08, 61.94.
ACCURATE_GATE_FLOORS = {
    ("parse", "ewt", "upos"): 95.5,
    ("parse", "ewt", "las"): 86.0,
    ("parse", "gum", "upos"): 96.5,
    ("parse", "gum", "las"): 82.5,
    ("parse", "gum_news", "sent_f"): 90.0,
    ("ner", "uner_ewt", "micro", "f"): 83.0,
    ("ner", "gum_silver", "micro", "f"): 59.0,
}


@pytest.mark.parametrize("model", ["fast", "accurate"])
def test_quality_gate_on_a_fixed_slice(model: str) -> None:
    require_data("ud-english-ewt")
    require_data("gum")
    require_data("uner-english-ewt")
    from storytrace.bench.nlp import run
    from storytrace.nlp.pipeline import unavailable

    if (why := unavailable(model)) is not None:
        pytest.skip(why)
    result = run(ROOT.parent / "shared" / "data", split="test", limit=GATE_DOCS, speed=False, model=model)
    floors = GATE_FLOORS if model == "fast" else ACCURATE_GATE_FLOORS
    low = {}
    for path, floor in floors.items():
        value = result
        for key in path:
            value = value[key]
        if value < floor:
            low[".".join(path)] = (value, floor)
    assert not low


# --- the recipe ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_recipe_trains_a_tiny_model_end_to_end(tmp_path: Path) -> None:
    require_data("ud-english-ewt")
    require_data("gum")
    cmd = [
        sys.executable,
        str(ROOT / "training" / "train.py"),
        "all",
        "--tiny",
        "--corpus",
        str(tmp_path / "corpus"),
        "--runs",
        str(tmp_path / "runs"),
    ]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    best = tmp_path / "runs" / "tiny" / "model-best"
    scores = json.loads((best / "scores.json").read_text())
    assert scores["parse"]["ewt"]["words"] > 0
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert "whow" in manifest["excluded_gum_genres"]
    assert all(g not in manifest["corpus"]["train"]["gum_genres"] for g in manifest["excluded_gum_genres"])
    nlp = build(best)
    assert nlp("Mr Smith went to Paris.").has_annotation("DEP")


def test_a_resumed_lemmatizer_gets_its_tree_to_label_map_back() -> None:
    """spaCy's EditTreeLemmatizer.from_disk leaves tree2label empty; the recipe's callback rebuilds it, else a
    resumed run (train.py train --resume) teaches the lemmatizer label 0 for every word."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("training_callbacks", ROOT / "training" / "callbacks.py")
    assert spec is not None and spec.loader is not None
    callbacks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(callbacks)
    nlp = spacy.load(MODEL_DIR, exclude=["parser", "ner", "tagger", "morphologizer"])
    lemmatizer = nlp.get_pipe("trainable_lemmatizer")
    assert lemmatizer.tree2label == {}  # if spaCy fixes this, the callback is no longer needed
    with nlp.select_pipes(disable=["trainable_lemmatizer"]):  # as during initialize: resumed pipes are disabled
        callbacks.fix_resumed_lemmatizer()(nlp)
    assert lemmatizer.tree2label == {tree: label for label, tree in enumerate(lemmatizer.labels)}
    assert len(lemmatizer.tree2label) > 100

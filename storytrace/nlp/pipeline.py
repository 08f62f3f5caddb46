"""Load storytrace's own English pipeline from package data: offline, cached per process.

The statistical pipeline (tagger, morphologizer, lemmatizer, parser, NER) is trained by
``training/train.py`` and shipped in ``storytrace/resources/model``; the rule components of
``storytrace.nlp.rules`` are added on load, so they can change without retraining.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy
import spacy
from spacy.language import Language
from spacy.util import get_minor_version_range, is_compatible_version
from thinc.api import NumpyOps

from storytrace.errors import ModelError
from storytrace.nlp import encoder as _encoder  # also registers the MiniLM tok2vec of the accurate model
from storytrace.nlp import rules as _rules  # noqa: F401  (registers the rule component factories)
from storytrace.nlp.quotetagger import single_threaded

MODEL_DIR = Path(str(files("storytrace") / "resources" / "model"))
# The accurate pipeline: the same components on a fine-tuned MiniLM encoder (``storytrace.nlp.encoder``); it needs
# the ``embeddings`` extra and parses ~6x slower than the CNN one (559 against ~3,000 words/s on one process).
ACCURATE_DIR = Path(str(files("storytrace") / "resources" / "model-accurate"))
MODELS = {"fast": MODEL_DIR, "accurate": ACCURATE_DIR}


def model_dir(model: str | Path | None) -> Path:
    """A model folder from a name ("fast", the default, or "accurate") or a path to a trained model."""
    if model is None:
        return MODEL_DIR
    return MODELS.get(str(model), Path(model))


RULE_COMPONENTS = (
    "storytrace_quote_boundaries",
    "storytrace_sentence_repair",
    "storytrace_entity_rules",
    "storytrace_entity_spans",
)


class BlasOps(NumpyOps):
    """thinc's NumPy ops with its matrix products done by NumPy's BLAS (the OpenBLAS in the numpy wheel) instead of
    blis. Why: blis 1.3 (what thinc 8.3.11 requires) runs the products of the tok2vec and the entity recogniser about
    3x slower than OpenBLAS on one core of the project's machine (AMD EPYC, AVX2; ``bench/blas.py``), and those
    products are most of the per-article analysis. Same weights, same results up to float rounding."""

    name = "storytrace-blas"

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False) -> Any:
        return numpy.matmul(x.T if trans1 else x, y.T if trans2 else y, out=out)


def use_blas(nlp: Language) -> None:
    """Give every thinc layer of ``nlp`` ``BlasOps``, and BLAS one thread per process (parallelism comes from the
    analysis pool's processes, as for torch)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    ops = BlasOps()
    for _name, component in nlp.components:
        model = getattr(component, "model", None)
        if model is not None and hasattr(model, "walk"):
            for node in model.walk():
                node.ops = ops


def model_meta(path: str | Path | None = None) -> dict[str, Any]:
    """Read the shipped model's meta.json (name, version, spaCy range, scores)."""
    path = model_dir(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file() or not (path / "config.cfg").is_file():
        raise ModelError(
            f"the English pipeline is missing from {path}. Reinstall storytrace, or rebuild the model "
            "with `make model` (training/train.py all) from a source checkout."
        )
    try:
        meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"the English pipeline's meta.json in {path} is unreadable: {exc}") from exc
    return meta


def check_compatible(meta: dict[str, Any], *, spacy_version: str = spacy.about.__version__) -> None:
    """Raise ModelError unless the running spaCy can load a model built for ``meta['spacy_version']``."""
    wanted = meta.get("spacy_version") or ""
    if not wanted:
        raise ModelError("the English pipeline's meta.json does not say which spaCy version built it")
    if not is_compatible_version(spacy_version, wanted):
        raise ModelError(
            f"the English pipeline was built for spaCy {wanted}, but spaCy {spacy_version} is installed. "
            f"Install spaCy {get_minor_version_range(spacy_version)} matching the model "
            f"(pip install 'spacy{wanted}'), or retrain it with training/train.py all."
        )


def _on_minilm(path: Path) -> bool:
    """Whether the pipeline in ``path`` (packaged, or a training checkpoint) runs the MiniLM encoder."""
    return _encoder.ARCHITECTURE in (path / "config.cfg").read_text(encoding="utf-8")


def unavailable(model: str | Path | None = None) -> str | None:
    """Why the pipeline ``model`` cannot load here (missing, another spaCy, the accurate one without the
    ``embeddings`` extra or with another MiniLM wheel), or None; without loading it."""
    try:
        meta = model_meta(model)
        check_compatible(meta)
        if "minilm_sha256" in meta:
            _encoder.check_base(meta["minilm_sha256"], model_dir(model))
        if _on_minilm(model_dir(model)):
            import torch  # noqa: F401
            import transformers  # noqa: F401
    except ModelError as exc:
        return str(exc)
    except ImportError as exc:
        return f"the {model} pipeline needs the 'embeddings' extra (pip install 'storytrace[embeddings]'): {exc}"
    return None


def build(path: str | Path | None = None, *, rules: bool = True, exclude: tuple[str, ...] = ()) -> Language:
    """Load the pipeline from ``path`` (default: the shipped model) without caching."""
    path = model_dir(path)
    meta = model_meta(path)
    check_compatible(meta)
    if "minilm_sha256" in meta:  # the accurate pipeline reads the wheel's frozen embeddings
        _encoder.check_base(meta["minilm_sha256"], path)
    if _on_minilm(path):
        single_threaded()  # as BLAS below: parallelism comes from the analysis pool's processes
    try:
        nlp = spacy.load(path, exclude=list(exclude))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"the English pipeline in {path} could not be loaded: {exc}") from exc
    use_blas(nlp)
    if rules:
        if "parser" in nlp.pipe_names:
            nlp.add_pipe("storytrace_quote_boundaries", before="parser")
        else:  # no parser: punctuation splits sentences, the quote rules refine them, before the entity rules
            nlp.add_pipe("sentencizer", first=True)
            nlp.add_pipe("storytrace_quote_boundaries", after="sentencizer")
        if "parser" in nlp.pipe_names:
            nlp.add_pipe("storytrace_sentence_repair", after="parser")
        if "ner" in nlp.pipe_names:
            nlp.add_pipe("storytrace_entity_rules", after="ner")
            nlp.add_pipe("storytrace_entity_spans", after="storytrace_entity_rules")
    return nlp


@lru_cache(maxsize=4)
def _cached(path: str, rules: bool, exclude: tuple[str, ...]) -> Language:
    return build(Path(path), rules=rules, exclude=exclude)


def load(path: Path | str | None = None, *, rules: bool = True, exclude: tuple[str, ...] = ()) -> Language:
    """Return the English pipeline from package data (no network), one instance per process.

    ``path`` names the pipeline ("fast", the default; "accurate", the MiniLM one) or loads another trained model
    directory (benchmarks, training checkpoints);
    ``rules=False`` leaves out the rule components; ``exclude`` drops pipeline components by name.
    """
    resolved = model_dir(path).resolve()
    return _cached(str(resolved), rules, tuple(exclude))

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

import spacy
from spacy.language import Language
from spacy.util import get_minor_version_range, is_compatible_version

from storytrace.errors import ModelError
from storytrace.nlp import rules as _rules  # noqa: F401  (registers the rule component factories)

MODEL_DIR = Path(str(files("storytrace") / "resources" / "model"))
RULE_COMPONENTS = (
    "storytrace_quote_boundaries",
    "storytrace_sentence_repair",
    "storytrace_entity_rules",
    "storytrace_entity_spans",
)


def model_meta(path: Path | None = None) -> dict[str, Any]:
    """Read the shipped model's meta.json (name, version, spaCy range, scores)."""
    path = Path(path) if path is not None else MODEL_DIR
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


def build(path: Path | None = None, *, rules: bool = True, exclude: tuple[str, ...] = ()) -> Language:
    """Load the pipeline from ``path`` (default: the shipped model) without caching."""
    path = Path(path) if path is not None else MODEL_DIR
    check_compatible(model_meta(path))
    try:
        nlp = spacy.load(path, exclude=list(exclude))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"the English pipeline in {path} could not be loaded: {exc}") from exc
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

    ``path`` loads another trained model directory instead (benchmarks, training checkpoints);
    ``rules=False`` leaves out the rule components; ``exclude`` drops pipeline components by name.
    """
    resolved = Path(path).resolve() if path is not None else MODEL_DIR
    return _cached(str(resolved), rules, tuple(exclude))

"""storytrace's English NLP: its own trained spaCy pipeline plus rule components."""

from __future__ import annotations

from storytrace.nlp.pipeline import load, model_meta

__all__ = ["load", "model_meta"]

"""spaCy callbacks for the training recipe (passed to ``spacy train`` with ``--code``)."""

from __future__ import annotations

from typing import Any

import spacy
from spacy.pipeline.edit_tree_lemmatizer import EditTreeLemmatizer

import storytrace.nlp.encoder  # noqa: F401  (registers storytrace.MiniLMTok2Vec.v1, read by configs/minilm.cfg)


@spacy.registry.callbacks("storytrace.fix_resumed_lemmatizer.v1")
def fix_resumed_lemmatizer() -> Any:
    """Rebuild an edit-tree lemmatizer's tree -> label map after it was loaded from disk.

    spaCy 3.8's ``EditTreeLemmatizer.from_disk`` restores the trees and the label list but not ``tree2label``,
    which ``get_loss`` reads with a default of label 0: a sourced (resumed) lemmatizer then learns to predict
    label 0 for every word (dev lemma accuracy 96.0 -> 76.9 in 1,000 steps of the first resumed run). Predicting
    is unaffected, since it reads the label list.
    """

    def fix(nlp: Any) -> Any:
        for _name, proc in nlp.components:  # resumed components are disabled while after_init runs
            if isinstance(proc, EditTreeLemmatizer) and not proc.tree2label:
                proc.tree2label = {tree: label for label, tree in enumerate(proc.labels)}
        return nlp

    return fix

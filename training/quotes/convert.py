"""PolNeAR for the quotation span tagger (``minilm.py``): the part of train it keeps back, and paragraphs.

``TUNE`` is every sixth train article in name order (``load_split(fold=TUNE)``): the tagger does not learn from it,
and the checkpoint and the way its spans join the rule layers are chosen on it. Paragraphs are runs of non-blank
lines (PolNeAR separates paragraphs by blank lines); the tagger reads one paragraph at a time.
"""

from __future__ import annotations

import re

TUNE = (0, 6)  # load_split(fold=TUNE): the part of train the tagger does not learn from
_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: runs of non-empty lines."""
    return [m.span() for m in _PARAGRAPH.finditer(text) if m.group().strip()]

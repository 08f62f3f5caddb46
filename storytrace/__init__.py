"""storytrace: who said what, who stands where, and what happened when, in a pile of news articles.

The public API is what this module lists in ``__all__``; everything else is implementation.
"""

from storytrace.corpus import Corpus
from storytrace.errors import InputError, PipelineError, StoreError, StorytraceError
from storytrace.model import Article, Cleaned, IngestReport, ItemError, Metadata, MetaValue, RemovedLine
from storytrace.settings import Settings

__all__ = [
    "Article",
    "Cleaned",
    "Corpus",
    "IngestReport",
    "InputError",
    "ItemError",
    "MetaValue",
    "Metadata",
    "PipelineError",
    "RemovedLine",
    "Settings",
    "StoreError",
    "StorytraceError",
]

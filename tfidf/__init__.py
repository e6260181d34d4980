"""A compact pure-Python TF-IDF/BM25 index: analysis, weighting, the inverted index, search.

No I/O here: the store writes the buffers that :func:`dump_parts` gives and hands back the file.
"""
from .analysis import Analyzer
from .counter import TermCounter
from .codec import dump_index, dump_parts, load_index
from .errors import AnalysisError, IndexFormatError, SettingsError, TfidfError
from .index import IndexParams, IndexStats, InvertedIndex
from .scoring import ScoringParams
from .search import Hit

__all__ = [
    "Analyzer", "AnalysisError", "Hit", "IndexFormatError", "IndexParams", "IndexStats", "InvertedIndex",
    "ScoringParams", "SettingsError", "TermCounter", "TfidfError", "dump_index", "dump_parts",
    "load_index",
]

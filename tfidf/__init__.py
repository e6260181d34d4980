"""A compact pure-Python TF-IDF/BM25 index: analysis, weighting, the inverted index, search.

No I/O here: the store reads and writes the bytes that :func:`dump_index` makes.
"""
from .analysis import Analyzer
from .counter import TermCounter
from .codec import dump_index, load_index
from .errors import AnalysisError, IndexFormatError, SettingsError, TfidfError
from .index import IndexParams, IndexStats, InvertedIndex
from .scoring import ScoringParams
from .search import Hit

__all__ = [
    "Analyzer", "AnalysisError", "Hit", "IndexFormatError", "IndexParams", "IndexStats", "InvertedIndex",
    "ScoringParams", "SettingsError", "TermCounter", "TfidfError", "dump_index", "load_index",
]

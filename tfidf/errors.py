"""The tfidf package's exceptions."""


class TfidfError(Exception):
    """Base class for every error raised by tfidf/."""


class AnalysisError(TfidfError, ValueError):
    """A bad analysis setting, such as an unknown stemming language."""


class IndexFormatError(TfidfError):
    """Bytes that are not an index of a version this code can read."""


class SettingsError(TfidfError, ValueError):
    """A scoring or index parameter outside its allowed range."""

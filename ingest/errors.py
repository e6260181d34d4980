"""Why a document could not be ingested: one exception tree, each with the HTTP status to answer.

Every message names the file or value at fault and says what the uploader can do about it.
"""
from __future__ import annotations


class IngestError(Exception):
    """Base class: a document could not be turned into text."""

    status: int = 422
    code: str = "ingest_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class UnsupportedType(IngestError):
    """The content is of a kind this server does not read (images, archives, binaries)."""

    status = 415
    code = "unsupported_type"


class EmptyFile(IngestError):
    """The file has no bytes (or nothing but whitespace)."""

    code = "empty_file"


class CorruptFile(IngestError):
    """The file is damaged, truncated, or only claims to be of its type."""

    code = "corrupt_file"


class EncryptedFile(IngestError):
    """A PDF that needs a password we do not have."""

    code = "encrypted_file"


class NoText(IngestError):
    """The document parsed but holds no extractable text (e.g. a scan without OCR)."""

    code = "no_text"


class TooLarge(IngestError):
    """The document exceeds a size or memory limit."""

    status = 413
    code = "too_large"


class TimedOut(IngestError):
    """Extraction took longer than the per-document time limit."""

    code = "timed_out"

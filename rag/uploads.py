"""Multipart uploads streamed to temporary files, never held whole in memory.

A request whose Content-Length is over the limit is refused before its body
is read; one that streams without a length is cut off as soon as it passes it.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from store.snapshots import pid_alive

from .errors import ApiError

MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the files themselves
MAX_FILES = 20


@dataclass
class UploadedFile:
    name: str
    path: Path
    size: int = 0


def _too_large(limit_mb: float) -> ApiError:
    return ApiError(413, f"upload is larger than MAX_UPLOAD_MB={limit_mb:g}; split it or raise the limit")


def check_declared_size(headers, limit_mb: float) -> None:
    """Refuse, before reading a byte, a body whose declared length is over the limit."""
    length = headers.get("content-length")
    if length and length.isdigit() and int(length) > limit_mb * 1024 * 1024 + MULTIPART_SLACK:
        raise _too_large(limit_mb)


def boundary_of(content_type: str) -> bytes:
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise ApiError(415, "send the document as multipart/form-data with a `file` field "
                            "(curl -F file=@report.pdf ...)")
    return options[b"boundary"]


class _Receiver:
    """python-multipart callbacks that write each `file` part to its own temporary file."""

    def __init__(self, field: str, directory: str | None, limit_mb: float) -> None:
        self.field, self.directory, self.limit_mb = field, directory, limit_mb
        self.files: list[UploadedFile] = []
        self._header, self._headers, self._handle = b"", {}, None
        self.complete = False  # the closing boundary was seen

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._field, "on_header_value": self._value,
                "on_headers_finished": self._open, "on_part_data": self._data, "on_part_end": self._end,
                "on_end": self._finished}

    def _finished(self) -> None:
        self.complete = True

    def _begin(self) -> None:
        self._headers, self._header = {}, b""

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._header = data[start:end].lower()

    def _value(self, data: bytes, start: int, end: int) -> None:
        self._headers[self._header] = self._headers.get(self._header, b"") + data[start:end]

    def _open(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name", b"").decode("utf-8", "replace") != self.field or b"filename" not in options:
            return
        if len(self.files) >= MAX_FILES:
            raise ApiError(413, f"at most {MAX_FILES} files per upload")
        name = Path(options[b"filename"].decode("utf-8", "replace").replace("\\", "/")).name or "upload"
        descriptor, path = tempfile.mkstemp(prefix=f"upload-{os.getpid()}-", dir=self.directory)
        self._handle = os.fdopen(descriptor, "wb")
        self.files.append(UploadedFile(name, Path(path)))

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is None:
            return
        current = self.files[-1]
        current.size += end - start
        if sum(f.size for f in self.files) > self.limit_mb * 1024 * 1024:  # all files, as Content-Length
            raise _too_large(self.limit_mb)
        self._handle.write(data[start:end])

    def _end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        self._end()
        remove_files(self.files)


def sweep_stale_uploads(directory: str | None = None) -> int:
    """Remove temporary uploads left by server processes that died mid-upload; how many."""
    removed = 0
    for path in Path(directory or tempfile.gettempdir()).glob("upload-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_files(files: list[UploadedFile]) -> None:
    for upload in files:
        upload.path.unlink(missing_ok=True)


async def receive_files(headers, body: AsyncIterator[bytes], *, field: str = "file", limit_mb: float,
                        directory: str | None = None) -> list[UploadedFile]:
    """Every `field` file part of a multipart body, each in a temporary file (the caller removes them)."""
    check_declared_size(headers, limit_mb)
    from python_multipart import MultipartParser  # loaded with the first upload, not at start-up

    receiver = _Receiver(field, directory, limit_mb)
    parser = MultipartParser(boundary_of(headers.get("content-type", "")), receiver.callbacks())
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
        if not receiver.complete:
            raise ApiError(400, "incomplete multipart body: the upload was cut off before its closing boundary")
    except ApiError:
        receiver.discard()
        raise
    except Exception as exc:  # a malformed body
        receiver.discard()
        raise ApiError(400, f"malformed multipart body: {exc}") from None
    if not receiver.files:
        raise ApiError(400, f"no file in the upload: send it in a multipart field named `{field}`")
    return receiver.files

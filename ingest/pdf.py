"""PDF pages as Sections, extracted by pypdf in a child process (ingest.pdf_worker).

The child is stopped once the parent has waited ``time_limit`` seconds for it in total, or once
it has used ``time_limit`` seconds of CPU (so a parser stuck in a loop dies even if the parent
is gone). Its memory is capped at ``memory_limit_mb`` and returned to the system when it exits;
if it crashes, only that document fails. Pages stream through one at a time, so the parent
never holds a whole document.
"""
from __future__ import annotations

import json
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .detect import is_pdf, not_a_pdf
from .encoding import read_head
from .errors import CorruptFile, EmptyFile, EncryptedFile, IngestError, NoText, TimedOut, TooLarge
from .model import Section

DEFAULT_TIME_LIMIT = 60.0
DEFAULT_MEMORY_LIMIT_MB = 2048
_READ_SIZE = 65536
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def extract_pdf(
    path: str | Path,
    *,
    name: str | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    worker: Sequence[str] | None = None,
) -> Iterator[Section]:
    """One Section per page with text (``page`` 1-based, ``heading`` None), in page order.

    ``name`` (default: the path's) labels error messages. ``worker`` replaces the child's
    command (the path is appended); it exists for tests.
    Raises EmptyFile, CorruptFile, EncryptedFile, NoText, TooLarge or TimedOut.
    """
    label = name or Path(path).name
    _check_header(path, label)
    command = [*(worker or default_worker(memory_limit_mb, time_limit)), str(Path(path).resolve())]
    with _Child(command, label, time_limit) as child:
        yield from _sections(child.messages(), label)


def default_worker(
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB, time_limit: float = DEFAULT_TIME_LIMIT
) -> list[str]:
    """The command that runs ingest.pdf_worker with this interpreter and these limits."""
    cpu_seconds = str(max(1, math.ceil(time_limit)))
    limits = ["--max-memory", str(memory_limit_mb), "--max-cpu", cpu_seconds]
    return [sys.executable, "-m", "ingest.pdf_worker", *limits]


def _check_header(path: str | Path, label: str) -> None:
    head = read_head(path, 1024)
    if not head:
        raise EmptyFile(f"{label}: the file is empty (0 bytes); upload a file with content")
    if not is_pdf(head):
        raise CorruptFile(f"{label}: {not_a_pdf(head)}")


def _sections(messages: Iterator[dict[str, Any]], label: str) -> Iterator[Section]:
    found = False
    for message in messages:
        if "page" in message:
            found = True
            yield Section(text=message["text"], page=message["page"], heading=None)
        elif "end" in message:
            _check_end(message, found, label)
            return
        else:
            raise _failure(message, label)
    raise CorruptFile(f"{label}: the PDF parser stopped without finishing; the file is probably damaged")


def _check_end(message: dict[str, Any], found: bool, label: str) -> None:
    pages, failed = message["end"], message["failed"]
    if pages and failed == pages:
        raise CorruptFile(f"{label}: every page failed to parse ({pages}); re-export or repair the PDF")
    if not found:
        raise NoText(
            f"{label}: no extractable text — scanned PDFs need OCR, which this server does not do "
            f"({pages} page(s) checked; text only in form fields or annotations is not read either); "
            "run OCR on it first or upload a text-based PDF"
        )


def _failure(message: dict[str, Any], label: str) -> IngestError:
    kind, reason = message.get("error"), message.get("reason", "no reason given")
    if kind == "encrypted":
        return EncryptedFile(f"{label}: password-protected PDF: remove the password and upload again")
    if kind == "empty":
        return EmptyFile(f"{label}: the PDF holds no data ({reason}); upload a file with content")
    if kind == "too-large":
        return TooLarge(f"{label}: parsing needs more memory than the per-document limit ({reason}); split the PDF")
    if kind == "dependency":
        message = f"{label}: the server's PDF support is incomplete ({reason}); install pypdf[crypto]"
        return IngestError(message, status=500)
    return CorruptFile(f"{label}: damaged PDF ({reason}); re-export or repair it and upload again")


class _Child:
    """A running worker whose stdout is read as JSON lines under a time budget."""

    def __init__(self, command: list[str], label: str, time_limit: float) -> None:
        self.label, self.limit, self.budget = label, time_limit, time_limit
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_child_env()
        )
        self.stdout: IO[bytes] = self.process.stdout  # type: ignore[assignment]

    def __enter__(self) -> _Child:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.stdout.close()

    def messages(self) -> Iterator[dict[str, Any]]:
        for line in self._lines():
            try:
                yield json.loads(line)
            except ValueError:
                raise CorruptFile(
                    f"{self.label}: the PDF parser sent garbage ({line[:80]!r}); the file is probably damaged"
                ) from None

    def _lines(self) -> Iterator[bytes]:
        buffer = b""
        while block := self._read():
            buffer += block
            *lines, buffer = buffer.split(b"\n")
            yield from (line for line in lines if line.strip())
        if self._out_of_cpu():
            raise self._timed_out()
        if buffer.strip():
            yield buffer

    def _read(self) -> bytes:
        """The next bytes from the child, or b"" at its end; charges the wait to the budget."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.stdout, selectors.EVENT_READ)
            started = time.monotonic()
            ready = selector.select(max(self.budget, 0.0))
            self.budget -= time.monotonic() - started
        if not ready:
            raise self._timed_out()
        return os.read(self.stdout.fileno(), _READ_SIZE)

    def _out_of_cpu(self) -> bool:
        """Whether the child was ended by its CPU-time limit (SIGXCPU)."""
        try:
            return self.process.wait(timeout=max(self.budget, 0.1)) == -signal.SIGXCPU
        except subprocess.TimeoutExpired:
            return False

    def _timed_out(self) -> TimedOut:
        return TimedOut(
            f"{self.label}: PDF extraction took longer than the per-document limit of {self.limit:g} s; "
            "the file may be malformed or very large — split or re-export it and upload again"
        )


def _child_env() -> dict[str, str]:
    """The parent's environment, with this package importable by the child."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env

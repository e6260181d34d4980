"""Child process that runs pypdf on one PDF.

``python -m ingest.pdf_worker PATH [--max-memory MB] [--max-cpu SECONDS]``

Writes one JSON object per line on stdout: ``{"page": n, "text": ...}`` for each page with text,
then either ``{"end": pages, "failed": pages_that_raised}`` or ``{"error": kind, "reason": ...}``
where kind is empty | encrypted | corrupt | too-large | dependency. Anything pypdf prints goes to
stderr, which the parent discards; pypdf's logger is set to ERROR.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import IO, Any

from .tidy import tidy

Message = dict[str, Any]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    out = _protocol_stream()
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    try:
        _limit(args.max_memory, args.max_cpu)
        for message in pages(args.path):
            _send(out, message)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a final message
        _send(out, failure(exc))
        return 1
    return 0


def pages(path: str) -> Iterator[Message]:
    """Messages for each page with text, then the end message; raises what pypdf raises."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise PermissionError("the empty user password does not open it")
    failed = 0
    for number, page in enumerate(reader.pages, 1):
        text = _page_text(page)
        failed += text is None
        if text:
            yield {"page": number, "text": text}
    yield {"end": len(reader.pages), "failed": failed}


def failure(exc: BaseException) -> Message:
    """The final message for an exception: its kind and a one-line reason."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return {"error": _kind(exc), "reason": reason}


def _kind(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "too-large"
    if isinstance(exc, ImportError):
        return "dependency"
    from pypdf import errors

    kinds = (
        (errors.EmptyFileError, "empty"),
        ((PermissionError, errors.FileNotDecryptedError, errors.WrongPasswordError), "encrypted"),
        (errors.DependencyError, "dependency"),
    )
    return next((kind for types, kind in kinds if isinstance(exc, types)), "corrupt")


def _page_text(page: Any) -> str | None:
    """The tidied text of a page, or None if pypdf fails on it (other pages are still read)."""
    try:
        return tidy(page.extract_text() or "")
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - one broken page must not lose the document
        return None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest.pdf_worker")
    parser.add_argument("path")
    parser.add_argument("--max-memory", type=int, default=0, help="address-space limit in MB (0: none)")
    parser.add_argument("--max-cpu", type=int, default=0, help="CPU seconds before SIGXCPU ends it (0: none)")
    return parser.parse_args(argv)


def _protocol_stream() -> IO[str]:
    """A private copy of stdout for messages; fd 1 itself is pointed at stderr so that stray
    prints from libraries cannot corrupt the message stream."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return out


def _limit(megabytes: int, seconds: int) -> None:
    """Cap memory (MemoryError past it) and CPU time (SIGXCPU ends the process, even when the
    parent has gone away and nobody is waiting for the answer)."""
    import resource

    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))


def _send(out: IO[str], message: Message) -> None:
    out.write(json.dumps(message, ensure_ascii=False) + "\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main())

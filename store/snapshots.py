"""The index snapshot file: read as a stream, replaced atomically, strays cleaned up."""
from __future__ import annotations

import os
from collections.abc import Iterable
from io import BufferedReader
from pathlib import Path


def read_snapshot(path: Path) -> BufferedReader | None:
    """The snapshot open for reading (the caller closes it), or None if there is none.

    A file, not a memory map: the index reads its arrays straight into place, so a loading process
    never holds the mapped file beside them (its peak memory stays the index's).
    """
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None
    if os.fstat(handle.fileno()).st_size == 0:
        handle.close()
        return None
    return handle


def write_snapshot(path: Path, parts: Iterable) -> None:
    """Write ``parts`` (buffers) end to end to a temporary file named after this process, fsync, then
    rename it over ``path``."""
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.writelines(parts)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def remove_stale(path: Path) -> None:
    """Delete temporary snapshots left by writers that were killed mid-save."""
    for stale in path.parent.glob(path.stem + ".tmp*"):
        pid = stale.suffix[len(".tmp"):]
        if pid.isdigit() and not pid_alive(int(pid)):
            stale.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id still runs (a stray file of a dead one may go)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

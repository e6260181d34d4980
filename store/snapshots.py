"""The index snapshot file: read through a memory map, replaced atomically, strays cleaned up."""
from __future__ import annotations

import mmap
import os
from pathlib import Path


def read_snapshot(path: Path) -> mmap.mmap | None:
    """A read-only memory map of the snapshot (the caller closes it), or None if there is none."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return None
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        return None


def write_snapshot(path: Path, data: bytes) -> None:
    """Write to a temporary file named after this process, fsync, then rename over ``path``."""
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
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

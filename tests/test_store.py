"""The SQLite store against real SQLite files."""
from __future__ import annotations

import os
import stat

import pytest

from store import NewChunk, NewDocument, ReadOnlyStore, SQLiteStore, StoreCorrupt, StoreError, open_store


def _doc(n: int) -> NewDocument:
    return NewDocument(uid=f"uid{n}", name=f"doc{n}.txt", media_type="text/plain", sha256=f"sha{n}", bytes=10 * n)


def _chunks(n: int) -> list[NewChunk]:
    return [NewChunk(f"chunk {i} of {n}", page=i + 1, heading="H", start=0, end=5) for i in range(n)]


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    s = open_store(tmp_path / "data") if request.param == "file" else SQLiteStore.memory()
    yield s
    s.close()


def test_add_read_delete_round_trip(store):
    generation = store.generation()
    record, keys = store.add_document(_doc(1), _chunks(3))
    assert store.generation() == generation + 1
    assert record.uid == "uid1" and record.chunks == 3 and len(keys) == 3
    assert store.document("uid1") == record == store.document_by_sha("sha1")
    assert [c.text for c in store.chunks(keys).values()] == ["chunk 0 of 3", "chunk 1 of 3", "chunk 2 of 3"]
    assert store.counts() == (1, 3) and store.chunk_keys() == keys
    assert store.delete_document("uid1") == keys
    assert store.delete_document("uid1") is None
    assert store.counts() == (0, 0) and store.chunks(keys) == {}


def test_a_batch_is_all_or_nothing(store):
    store.add_document(_doc(1), _chunks(1))
    with pytest.raises(Exception):
        store.add_documents([(_doc(2), _chunks(2)), (_doc(1), _chunks(1))])  # sha1 again violates UNIQUE
    assert store.counts() == (1, 1) and store.document("uid2") is None


def test_iter_chunks_pages_through_everything_after_a_key(store):
    keys = [k for n in range(1, 4) for k in store.add_document(_doc(n), _chunks(n))[1]]
    assert [c.key for c in store.iter_chunks()] == keys
    assert [c.key for c in store.iter_chunks(after=keys[2])] == keys[3:]


def test_snapshot_is_replaced_atomically(tmp_path):
    store = open_store(tmp_path)
    assert store.load_snapshot() is None
    store.save_snapshot(b"one")
    store.save_snapshot(b"two")
    with store.load_snapshot() as snapshot:  # a file the caller reads and closes
        assert snapshot.read() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir() if "tmp" in p.name) == []


def test_deleting_gives_disk_space_back(tmp_path):
    store = open_store(tmp_path)
    big = [NewChunk("x" * 20_000, None, None, 0, 20_000) for _ in range(100)]
    store.add_document(_doc(1), big)
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full = (tmp_path / "store.sqlite3").stat().st_size
    store.delete_document("uid1")
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert (tmp_path / "store.sqlite3").stat().st_size < full / 4


def test_read_only_directory_opens_immutable_and_refuses_writes(tmp_path):
    writable = open_store(tmp_path)
    writable.add_document(_doc(1), _chunks(2))
    writable.save_snapshot(b"snap")
    writable.close()
    mode = tmp_path.stat().st_mode
    os.chmod(tmp_path, stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(tmp_path, os.W_OK):
            pytest.skip("running as a user who can write anywhere; read-only forced below")
        store = open_store(tmp_path)
    finally:
        os.chmod(tmp_path, mode)
    assert store.read_only and store.counts() == (1, 2) and _read(store.load_snapshot()) == b"snap"
    with pytest.raises(ReadOnlyStore, match="read-only"):
        store.add_document(_doc(2), [])


def test_forced_read_only_and_missing_store(tmp_path):
    open_store(tmp_path / "d").add_document(_doc(1), _chunks(1))  # left open: its WAL must still be read
    store = open_store(tmp_path / "d", read_only=True)
    assert store.read_only and store.document("uid1").chunks == 1
    with pytest.raises(ReadOnlyStore):
        store.delete_document("uid1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="ingest"):
        open_store(tmp_path / "empty", read_only=True)


def test_a_foreign_file_is_reported_not_crashed_on(tmp_path):
    (tmp_path / "store.sqlite3").write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(StoreCorrupt):
        open_store(tmp_path)


def test_a_killed_writers_temporary_snapshot_is_removed_on_open(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stray = tmp_path / f"index.tmp{dead.stdout.strip()}"  # that process has exited
    live = tmp_path / f"index.tmp{os.getpid()}"  # this one has not: its save may be under way
    open_store(tmp_path).close()
    stray.write_bytes(b"half a snapshot")
    live.write_bytes(b"a snapshot being written")
    open_store(tmp_path).close()
    assert not stray.exists() and live.exists()


def test_a_background_fold_leaves_every_commit_in_the_database_file(tmp_path):
    store = open_store(tmp_path / "data")
    store.add_documents([(_doc(n), _chunks(2)) for n in range(1, 200)])
    store.fold_in_background()
    store.add_documents([(_doc(n), _chunks(2)) for n in range(200, 300)])  # writes go on meanwhile
    store.close()
    wal = tmp_path / "data" / "store.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    (tmp_path / "copy").mkdir()  # the database file alone, as a deployment would ship it
    (tmp_path / "copy" / "store.sqlite3").write_bytes((tmp_path / "data" / "store.sqlite3").read_bytes())
    copy = open_store(tmp_path / "copy", read_only=True)
    assert copy.counts() == (299, 598)
    copy.close()


def test_a_memory_store_has_nothing_to_fold():
    store = SQLiteStore.memory()
    store.fold_in_background()
    store.add_document(_doc(1), _chunks(1))
    store.close()


def _read(snapshot) -> bytes:
    with snapshot:
        return snapshot.read()

"""Batches of documents go in with two executemany: the same rows, ids and records as one by one."""
from __future__ import annotations

from store import NewChunk, NewDocument, SQLiteStore


def _doc(n: int, pages: int | None = None) -> NewDocument:
    return NewDocument(uid=f"uid{n}", name=f"doc{n}", media_type="text/plain", sha256=f"sha{n}", bytes=n,
                       pages=pages, source_id=f"s{n}", title=None if n % 2 else f"title {n}")


def _chunks(n: int) -> list[NewChunk]:
    return [NewChunk(f"text {n}.{i}", page=(i or None) and i + n, heading=None if i else "H", start=i, end=i + 5)
            for i in range(n)]


def test_a_batch_stores_what_one_by_one_stores():
    batch = [(_doc(n, pages=2 if n == 3 else None), _chunks(n)) for n in range(1, 6)]
    one_by_one, batched = SQLiteStore.memory(), SQLiteStore.memory()
    expected = [one_by_one.add_documents([(d, iter(c))])[0] for d, c in batch]  # iterators: the streaming path
    got = batched.add_documents(batch)
    assert [(r._replace(added_at=None), keys) for r, keys in got] == \
           [(r._replace(added_at=None), keys) for r, keys in expected]
    for store, added in ((one_by_one, expected), (batched, got)):
        assert [store.document(f"uid{n}") for n in range(1, 6)] == [record for record, _ in added]
    assert list(batched.iter_chunks()) == list(one_by_one.iter_chunks())


def test_ids_are_never_reused_after_deletes():
    store = SQLiteStore.memory()
    store.add_documents([(_doc(1), _chunks(2)), (_doc(2), _chunks(3))])
    store.delete_document("uid2")
    record, keys = store.add_documents([(_doc(3), _chunks(1))])[0]
    assert record.key == 3 and keys == [6]
    record, keys = store.add_documents([(_doc(4), iter(_chunks(1)))])[0]  # and AUTOINCREMENT agrees
    assert record.key == 4 and keys == [7]

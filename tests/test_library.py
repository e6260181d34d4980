"""The library joins store and index: checkpoints during a long ingest."""
from ingest import Record
from rag.library import Library
from rag.settings import Settings
from store import SQLiteStore
from tfidf import load_index


def _records(n: int) -> list[Record]:
    return [Record(f"r{i}", f"title {i}", f"text about topic {i} and shared words") for i in range(n)]


def test_a_long_bulk_ingest_saves_the_index_as_it_goes():
    store = SQLiteStore.memory()
    library = Library(store, Settings(), checkpoint_seconds=0.0)
    added = list(library.add_records(_records(600)))  # three batches; no explicit save
    assert len(added) == 600
    index, meta = load_index(store.load_snapshot())
    assert meta["generation"] == store.generation() and len(index) == 600


def test_without_a_due_checkpoint_nothing_is_saved_until_asked():
    store = SQLiteStore.memory()
    library = Library(store, Settings(), checkpoint_seconds=3600.0)
    list(library.add_records(_records(300)))
    assert len(load_index(store.load_snapshot())[0]) == 0  # only the empty index saved at open
    library.save()
    assert len(load_index(store.load_snapshot())[0]) == 300


def test_records_stored_before_come_back_marked_duplicate():
    library = Library(SQLiteStore.memory(), Settings())
    first = list(library.add_records(_records(3)))
    again = list(library.add_records(_records(4)))
    assert [a.duplicate for a in first] == [False] * 3
    assert sorted(a.duplicate for a in again) == [False, True, True, True]
    assert {a.document.uid for a in again if a.duplicate} == {a.document.uid for a in first}


def test_searches_answer_from_the_last_state_while_a_refresh_is_built():
    import threading

    library = Library(SQLiteStore.memory(), Settings())
    list(library.add_records(_records(50)))
    assert len(library.search("topic 7", 3)) == 3  # idle: catches up first
    list(library.add_records([Record("new", "", "a brand new platypus")]))
    with library._ingest_lock:  # as if an ingestion were running: the search must not wait
        done = threading.Event()
        threading.Thread(target=lambda: (library.search("platypus", 3), done.set())).start()
        assert done.wait(5), "the search waited for the ingestion"
    assert [p.source_id for p in library.search("platypus", 3)] == ["new"]  # idle again: found

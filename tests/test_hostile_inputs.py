"""Inputs an adversarial review found: each gets a clear 4xx and stores nothing it should not."""
from __future__ import annotations

import gzip
import json

import pytest
from starlette.testclient import TestClient

from rag.library import Library
from rag.settings import Settings
from server import create_app
from store import SQLiteStore


@pytest.fixture()
def client():
    settings = Settings(MAX_UPLOAD_MB=1.0)
    with TestClient(create_app(settings, library=Library(SQLiteStore.memory(), settings))) as c:
        yield c


def _documents(client) -> int:
    return client.get("/health").json()["documents"]


def test_a_gzip_bomb_is_refused_by_its_decompressed_size(client):
    line = json.dumps({"_id": "b", "text": "a" * (3 * 2**20)}).encode()  # 3 MB of text, ~3 KB gzipped
    body = gzip.compress(json.dumps({"_id": "a", "text": "start"}).encode() + b"\n" + line + b"\n")
    response = client.post("/documents", files={"file": ("bomb.jsonl.gz", body)})
    assert response.status_code == 413 and "decompressed" in response.json()["error"]
    assert _documents(client) == 0


def test_a_corpus_with_a_bad_line_stores_none_of_its_records(client):
    good = [json.dumps({"_id": f"r{i}", "text": f"capybara number {i}"}) for i in range(600)]
    body = "\n".join(good[:400] + ["{not json"] + good[400:]).encode()
    response = client.post("/documents", files={"file": ("corpus.jsonl", body)})
    assert response.status_code == 422 and "line 401" in response.json()["error"]
    assert _documents(client) == 0 and client.post("/search", json={"query": "capybara"}).json()["results"] == []


def test_a_jsonl_file_with_an_early_bad_line_is_not_stored_as_text(client):
    body = b'{"_id": "a", "text": "one"}\nnot json\n{"_id": "b", "text": "two"}\n'
    response = client.post("/documents", files={"file": ("small.jsonl", body)})
    assert response.status_code == 422 and "line 2" in response.json()["error"]


def test_a_truncated_multipart_body_is_refused(client):
    body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n\r\nabout bison, cut off mid-wo'
    response = client.post("/documents", content=body, headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert response.status_code == 400 and "incomplete" in response.json()["error"]
    assert _documents(client) == 0


def test_deeply_nested_json_is_a_400_not_a_500(client):
    for route in ("/search", "/ask", "/v1/chat/completions"):
        response = client.post(route, content="[" * 100_000 + "]" * 100_000)
        assert response.status_code == 400, route


def test_an_overlong_question_is_refused(client):
    response = client.post("/ask", json={"question": "word " * 3000})
    assert response.status_code == 422 and "at most" in response.json()["error"]


def test_uploads_left_by_a_dead_server_are_swept(tmp_path):
    import os
    import subprocess
    import sys

    from rag.uploads import sweep_stale_uploads

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"upload-{dead.stdout.strip()}-abc"
    mine = tmp_path / f"upload-{os.getpid()}-def"
    stale.write_bytes(b"half an upload")
    mine.write_bytes(b"an upload under way")
    assert sweep_stale_uploads(str(tmp_path)) == 1
    assert not stale.exists() and mine.exists()

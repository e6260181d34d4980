"""A read-only DATA_DIR (Vercel): built at deploy time, then served without writes.

Two ways: READ_ONLY=True over a writable directory (root ignores file modes, so a
chmod proves nothing here), and a genuinely read-only filesystem: a tmpfs mounted,
filled, then remounted read-only (skipped where mounting is not permitted).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from rag.settings import Settings
from server import create_app
from store import StoreError
from tests.test_server_live import ServerProcess

REPO = Path(__file__).resolve().parents[1]
NOTES = "# Deploy notes\n\nThe marmalade pipeline ships every Tuesday from the Lisbon office.\n"
READ_ONLY_ERROR = "this deployment is read-only"


def ingest(data_dir: Path, *paths: Path) -> None:
    """`python server.py ingest` into ``data_dir``: how a deployment builds its index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "OPENROUTER_", "GROQ_"))}
    done = subprocess.run([sys.executable, "server.py", "ingest", "--data-dir", str(data_dir), *map(str, paths)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def fingerprint(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def sources(pdf_dir, tmp_path_factory) -> list[Path]:
    notes = tmp_path_factory.mktemp("src") / "deploy-notes.md"
    notes.write_text(NOTES)
    return [pdf_dir / "crazyones.pdf", pdf_dir / "naacl06-shinyama.pdf", notes]


@pytest.fixture(scope="module")
def built(sources, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("ro") / "data"
    ingest(data, *sources)
    return data


def check_serves_read_only(client: TestClient) -> None:
    """Search and ask work; uploads and deletes get a clear 403; nothing changes."""
    health = client.get("/health").json()
    assert health["read_only"] is True and health["documents"] == 3 and health["chunks"] > 3
    names = {d["name"]: d["id"] for d in client.get("/documents").json()["documents"]}
    assert set(names) == {"crazyones.pdf", "naacl06-shinyama.pdf", "deploy-notes.md"}

    results = client.post("/search", json={"query": "marmalade pipeline Lisbon"}).json()["results"]
    assert results[0]["document_name"] == "deploy-notes.md"
    answer = client.post("/ask", json={"question": "Who are the crazy ones?"}).json()
    assert answer["mode"] == "extractive" and answer["sources"][0]["document_name"] == "crazyones.pdf"
    stream = client.post("/ask", json={"question": "When does the marmalade pipeline ship?", "stream": True})
    assert "event: done" in stream.text and "Tuesday" in stream.text

    refused = client.post("/documents", files={"file": ("new.txt", b"fresh words", "text/plain")})
    assert refused.status_code == 403
    assert refused.json()["status"] == 403 and READ_ONLY_ERROR in refused.json()["error"]
    assert "python server.py ingest" in refused.json()["error"]
    deleted = client.delete(f"/documents/{names['crazyones.pdf']}")
    assert deleted.status_code == 403 and "read-only" in deleted.json()["error"]
    assert client.get("/health").json()["documents"] == 3
    assert client.post("/search", json={"query": "misfits"}).json()["results"][0]["document_name"] == "crazyones.pdf"


def test_read_only_setting_serves_without_writing(built):
    before = fingerprint(built)
    with TestClient(create_app(Settings(DATA_DIR=str(built), READ_ONLY=True))) as client:
        check_serves_read_only(client)
    after = fingerprint(built)
    # The database and the index are untouched. SQLite, reading a WAL database from a writable
    # directory, may leave its coordination files (an empty -wal and a -shm) beside it.
    assert {k: v for k, v in after.items() if not k.endswith("-shm")} == before | (
        {"store.sqlite3-wal": hashlib.sha256(b"").hexdigest()} if "store.sqlite3-wal" in after else {})


def test_read_only_upload_is_refused_before_the_body_is_read(built):
    app = create_app(Settings(DATA_DIR=str(built), READ_ONLY=True))
    received = []

    async def receive() -> dict:
        received.append(1)
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    sent = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/documents", "raw_path": b"/documents", "query_string": b"",
             "root_path": "", "headers": [(b"content-type", b"multipart/form-data; boundary=B")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 403 and not received
    assert READ_ONLY_ERROR in json.loads(sent[1]["body"])["error"]


def test_read_only_without_a_store_says_to_build_one(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StoreError, match="build it first with `python server.py ingest`"):
        with TestClient(create_app(Settings(DATA_DIR=str(empty), READ_ONLY=True))):
            pass
    assert list(empty.iterdir()) == []


# --- a genuinely read-only filesystem ---------------------------------------------------------

def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def ro_mount(tmp_path_factory, sources):
    """A tmpfs holding two data dirs (one built by the CLI, one by the server), remounted read-only."""
    mount = tmp_path_factory.mktemp("mnt")
    if shutil.which("mount") is None:
        pytest.skip("no mount command here, so no read-only filesystem can be made")
    made = _run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount))
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}); READ_ONLY=True is tested above")
    try:
        ingest(mount / "cli", *sources)
        with TestClient(create_app(Settings(DATA_DIR=str(mount / "served")))) as client:
            for path in sources:
                response = client.post("/documents", files={"file": (path.name, path.read_bytes())})
                assert response.status_code == 201, response.text
        remounted = _run("mount", "-o", "remount,ro", str(mount))
        assert remounted.returncode == 0, f"remount read-only failed (files still open?): {remounted.stderr}"
        assert not os.access(mount, os.W_OK)
        with pytest.raises(OSError):
            (mount / "cli" / "probe").write_text("x")
        yield mount
    finally:
        if _run("umount", str(mount)).returncode != 0:
            _run("umount", "-l", str(mount))


@pytest.mark.parametrize("directory", ["cli", "served"])
def test_read_only_filesystem_is_detected_and_served(ro_mount, directory):
    data = ro_mount / directory
    before = fingerprint(data)
    assert not any(name.endswith(("-wal", "-shm")) for name in before)  # the builders closed cleanly
    with TestClient(create_app(Settings(DATA_DIR=str(data)))) as client:  # no READ_ONLY: detected
        check_serves_read_only(client)
    assert fingerprint(data) == before


def test_live_server_on_a_read_only_filesystem(ro_mount, tmp_path):
    server = ServerProcess(ro_mount / "cli", tmp_path / "server.log")
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/health").json()["read_only"] is True
            hits = http.post("/search", json={"query": "marmalade"}).json()["results"]
            assert hits[0]["document_name"] == "deploy-notes.md"
            refused = http.post("/documents", files={"file": ("a.txt", b"alpha")})
            assert refused.status_code == 403 and READ_ONLY_ERROR in refused.json()["error"]
    finally:
        server.stop()
    assert "Traceback" not in (tmp_path / "server.log").read_text()

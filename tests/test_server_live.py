"""A real server process (`python server.py`) on a free port, driven over HTTP with httpx.

One server for the module: uploads of real PDFs, answers, the memory figure, a big
upload during which other requests keep being answered, and a clean stop.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from store import open_store

REPO = Path(__file__).resolve().parents[1]
# Nothing that could switch on LLM answers, keys or read-only mode reaches the server.
SCRUB = re.compile(r"^(LLM_|OPENROUTER_|GROQ_|OPENAI_|API_KEY$|PROTECT_READS$|READ_ONLY$|MEMORY_LIMIT_MB$|MAX_UPLOAD_MB$)")
BIG = "GeoTopo-komprimiert.pdf"  # 117 pages, 1.8 MB: seconds of parsing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port, self.data_dir, self.log_path = free_port(), data_dir, log_path
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not SCRUB.match(k)}
        env |= {"DATA_DIR": str(data_dir), "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "server.py"], cwd=REPO, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.returncode: int | None = None

    def wait_healthy(self, seconds: float = 30) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).json()["status"] == "ok":
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"server not healthy after {seconds} s:\n{self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        if self.returncode is None:
            self.proc.send_signal(signal.SIGINT if os.name != "posix" else signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait()
            self.log.close()
        return self.returncode


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("live")
    srv = ServerProcess(tmp / "data", tmp / "server.log")
    srv.startup_s = srv.wait_healthy()
    yield srv
    srv.stop()
    print(f"--- server log ---\n{srv.log_text() if not srv.log.closed else srv.log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def pdf(pdf_dir: Path, name: str):
    return ("file", (name, (pdf_dir / name).read_bytes(), "application/pdf"))


def test_starts_empty_and_reports_its_own_memory(server, http):
    assert server.startup_s < 15
    health = http.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == health["chunks"] == 0
    assert health["mode"] == "extractive" and health["read_only"] is False
    rss = psutil.Process(server.proc.pid).memory_info().rss / 2**20
    assert abs(health["memory_mb"] - rss) < 10, (health["memory_mb"], rss)
    assert health["memory_mb"] < 100


def test_uploads_several_real_pdfs(http, pdf_dir):
    names = ["crazyones.pdf", "naacl06-shinyama.pdf", "federal-register-2020-17221.pdf"]
    response = http.post("/documents", files=[pdf(pdf_dir, n) for n in names])
    assert response.status_code == 201, response.text
    documents = response.json()["documents"]
    assert [(d["name"], d["pages"], d["duplicate"]) for d in documents] == [
        ("crazyones.pdf", 1, False), ("naacl06-shinyama.pdf", 8, False), ("federal-register-2020-17221.pdf", 15, False)]
    one = http.post("/documents", files=[pdf(pdf_dir, "dmca-encrypted-empty-user-pw.pdf")])
    assert one.status_code == 201 and one.json()["documents"][0]["pages"] == 18
    again = http.post("/documents", files=[pdf(pdf_dir, "crazyones.pdf")])
    assert again.status_code == 200 and again.json()["documents"][0]["duplicate"] is True
    refused = http.post("/documents", files=[pdf(pdf_dir, "scan-175.pdf")])
    assert refused.status_code == 422 and "no extractable text" in refused.json()["error"]
    health = http.get("/health").json()
    assert health["documents"] == 4
    assert health["chunks"] == sum(d["chunks"] for d in documents) + one.json()["documents"][0]["chunks"]


def test_search_and_ask(http):
    results = http.post("/search", json={"query": "Digital Millennium Copyright Act", "top_k": 3}).json()["results"]
    assert results[0]["document_name"] == "dmca-encrypted-empty-user-pw.pdf"
    answer = http.post("/ask", json={"question": "Who are the crazy ones?"}).json()
    assert answer["mode"] == "extractive" and answer["sources"][0]["document_name"] == "crazyones.pdf"
    assert answer["cited"] and "[1]" in answer["answer"]


def test_ask_streams_server_sent_events(http):
    events, arrived = [], []
    with http.stream("POST", "/ask", json={"question": "Who are the crazy ones?", "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
                arrived.append(time.monotonic())
    names = [n for n, _ in events]
    assert names[-2:] == ["sources", "done"] and set(names[:-2]) == {"delta"}
    assert "".join(d["text"] for n, d in events if n == "delta") == events[-1][1]["answer"]


def test_declared_oversize_upload_is_refused_before_the_body_is_sent(server):
    """Headers claim 1 GB and no body follows: the 413 must come back anyway, at once."""
    request = (f"POST /documents HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
               "Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1000000000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(request.encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    assert time.monotonic() - started < 2
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body) == {"error": "upload is larger than MAX_UPLOAD_MB=50; split it or raise the limit",
                                "status": 413}


@pytest.fixture(scope="module")
def big_upload(server, http, pdf_dir):
    """Upload the 117-page PDF while three clients poll other routes; their timings."""
    data = (pdf_dir / BIG).read_bytes()
    done = threading.Event()
    result: dict = {}
    polls: dict[str, list[tuple[float, float, int]]] = {"/v1/models": [], "/health": [], "/search": []}

    def upload() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            result["start"] = time.monotonic()
            result["response"] = client.post("/documents", files={"file": (BIG, data, "application/pdf")})
            result["end"] = time.monotonic()
        done.set()

    def poll(route: str) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while not done.is_set():
                started = time.monotonic()
                if route == "/search":
                    response = client.post(route, json={"query": "crazy ones", "top_k": 3})
                else:
                    response = client.get(route)
                polls[route].append((started, time.monotonic() - started, response.status_code))
                time.sleep(0.05)

    threads = [threading.Thread(target=poll, args=(route,)) for route in polls]
    for t in threads:
        t.start()
    time.sleep(0.3)  # the pollers are warm before the upload starts
    upload()
    for t in threads:
        t.join(90)
    return result, polls


def during(result: dict, polls: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    return [p for p in polls if result["start"] <= p[0] <= result["end"]]


def test_big_upload_is_ingested(big_upload, http):
    result, _ = big_upload
    response = result["response"]
    assert response.status_code == 201, response.text
    (document,) = response.json()["documents"]
    assert document["pages"] == 117 and document["chunks"] > 50
    assert result["end"] - result["start"] > 1  # long enough for the timings below to mean something
    hits = http.post("/search", json={"query": "Topologie Homöomorphismus", "top_k": 3}).json()["results"]
    assert hits and hits[0]["document_name"] == BIG


def test_event_loop_stays_free_during_ingestion(big_upload):
    result, polls = big_upload
    models = during(result, polls["/v1/models"])
    assert len(models) >= 5, models
    assert all(status == 200 for _, _, status in models)
    assert max(latency for _, latency, _ in models) < 0.5, models


def test_health_and_search_answer_promptly_during_ingestion(big_upload):
    result, polls = big_upload
    for route in ("/health", "/search"):
        measured = during(result, polls[route])
        assert len(measured) >= 3, (route, measured)
        assert all(status == 200 for _, _, status in measured)
        assert max(latency for _, latency, _ in measured) < 1.0, (route, measured)


def test_memory_stays_small_after_the_uploads(server, http, big_upload):
    health = http.get("/health").json()
    assert health["documents"] == 5
    rss = psutil.Process(server.proc.pid).memory_info().rss / 2**20
    assert abs(health["memory_mb"] - rss) < 10
    assert health["memory_mb"] < 100, health


def test_delete_over_http(http):
    dmca = next(d for d in http.get("/documents").json()["documents"] if d["name"].startswith("dmca"))
    assert http.delete(f"/documents/{dmca['id']}").json() == {"deleted": dmca["id"]}
    results = http.post("/search", json={"query": "Digital Millennium Copyright Act", "top_k": 20}).json()["results"]
    assert all(r["document_id"] != dmca["id"] for r in results)
    assert http.get("/health").json()["documents"] == 4


def test_stops_cleanly_and_keeps_its_documents(server, http):
    names = sorted(d["name"] for d in http.get("/documents").json()["documents"])
    code = server.stop()
    assert code in (0, -signal.SIGTERM), server.log_path.read_text()[-2000:]
    log = server.log_path.read_text()
    assert "Application shutdown complete" in log and "Traceback" not in log
    assert not (server.data_dir / "store.sqlite3-wal").exists()  # folded into the database on close
    store = open_store(server.data_dir, read_only=True)
    try:
        assert sorted(d.name for d in store.documents()) == names
    finally:
        store.close()

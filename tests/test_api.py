"""The HTTP API in-process (Starlette TestClient) over an in-memory library: every route and error path.

The shared PDFs (tests/conftest.py ``pdf_dir``) are uploaded once per module, each
with the status its manifest kind calls for; smaller tests use fresh apps.
"""
from __future__ import annotations

import asyncio
import csv
import json
import re
from pathlib import Path

import psutil
import pytest
from starlette.testclient import TestClient

import rag.api
from rag.answering import NOTHING_FOUND
from rag.library import Library
from rag.settings import Settings
from server import create_app
from store import SQLiteStore

KEY = "s3cret-key-for-tests"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Too slow for an in-process module (5-6 s each); tests/test_server_live.py uploads them.
BIG = {"GeoTopo-komprimiert.pdf", "irs-i1040nr-instructions.pdf"}
# Damaged PDFs whose text pypdf still recovers: accepted, like any text PDF.
RECOVERABLE = {"zen_of_python_corrupted.pdf", "append-xref-loop.pdf"}


def make_app(**overrides):
    settings = Settings(DATA_DIR="/nonexistent/not-used-with-an-injected-library", **overrides)
    return create_app(settings, library=Library(SQLiteStore.memory(), settings))


@pytest.fixture
def client():
    with TestClient(make_app()) as c:
        yield c


def upload(c: TestClient, name: str, data: bytes, headers=None, content_type="application/octet-stream"):
    return c.post("/documents", files={"file": (name, data, content_type)}, headers=headers or {})


def sse_events(text: str) -> list[tuple[str, dict]]:
    """Parse a text/event-stream body of `event:`/`data:` frames."""
    events = []
    for frame in text.split("\n\n"):
        if not frame.strip():
            continue
        fields = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def assert_error(response, status: int, *phrases: str) -> dict:
    """The one error shape: {"error": "...", "status": N}, naming the problem."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == status
    for phrase in phrases:
        assert phrase.lower() in body["error"].lower(), body["error"]
    return body


# --- the shared PDFs, uploaded once ---------------------------------------------------------

def manifest_rows(pdf_dir: Path) -> list[dict]:
    with open(pdf_dir / "manifest.tsv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def expected(row: dict) -> tuple[int, str | None]:
    """The status (and a phrase of the error) that a manifest row calls for."""
    kind, note, name = row["kind"], row["note"], row["file"]
    if kind in ("text", "other") or name in RECOVERABLE:
        return 201, None
    if kind == "image-only":
        return 422, "no extractable text — scanned PDFs need OCR"
    if kind == "encrypted":
        return (201, None) if "pypdf-decrypt:''" in note else (422, "password")
    if kind == "corrupt":
        return (422, "empty") if row["bytes"] == "0" else (422, "damaged")
    if kind == "not-pdf":
        return 422, "claims to be a PDF but is not"
    raise AssertionError(f"unknown manifest kind {kind!r}")


FILES = [
    "naacl06-shinyama.pdf", "federal-register-2020-17221.pdf", "pdflatex-4-pages.pdf", "multicolumn.pdf",
    "scotus-transcript-p1.pdf", "crazyones.pdf", "lorem-ipsum-2p.pdf", "google-doc-document.pdf",
    "habibi-arabic.pdf", "siege-of-vicksburg-scan-ocr.pdf", "git-logo-image-only.pdf", "grayscale-image.pdf",
    "scan-175.pdf", "r6-empty-password.pdf", "r4-aes-user-password.pdf", "libreoffice-writer-password.pdf",
    "dmca-encrypted-empty-user-pw.pdf", "empty.pdf", "zen_of_python_corrupted.pdf", "bad-xref.pdf",
    "append-xref-loop.pdf", "unreadablemetadata.pdf", "truncated-nics.pdf", "fake.pdf", "random-bytes.pdf",
]


@pytest.fixture(scope="module")
def corpus(pdf_dir):
    """One app with every shared PDF (but the two big ones) uploaded: (client, rows, responses)."""
    rows = {r["file"]: r for r in manifest_rows(pdf_dir)}
    assert set(FILES) | BIG == set(rows), "the manifest changed; update FILES"
    with TestClient(make_app()) as c:
        responses = {name: upload(c, name, (pdf_dir / name).read_bytes(), content_type="application/pdf")
                     for name in FILES}
        cjk = "東京大学の図書館は本郷キャンパスにあります。日本語の全文検索のテストです。\n".encode()
        responses["cjk.txt"] = upload(c, "cjk.txt", cjk, content_type="text/plain")
        yield c, rows, responses


@pytest.mark.parametrize("name", FILES)
def test_each_shared_pdf_gets_its_kinds_status(corpus, name):
    _, rows, responses = corpus
    response, row = responses[name], rows[name]
    status, phrase = expected(row)
    assert response.status_code < 500
    if status == 201:
        assert response.status_code == 201, response.text
        (document,) = response.json()["documents"]
        assert document["name"] == name and document["duplicate"] is False
        assert re.fullmatch(r"[0-9a-f]{16}", document["id"])
        assert document["bytes"] == int(row["bytes"]) and document["chunks"] >= 1
        if row["pages"]:
            assert document["pages"] == int(row["pages"])
    else:
        assert_error(response, status, name, phrase)


def test_image_only_refusal_explains_ocr(corpus):
    _, _, responses = corpus
    body = assert_error(responses["scan-175.pdf"], 422)
    assert body["error"].startswith("scan-175.pdf: no extractable text — scanned PDFs need OCR")


def test_health_counts_documents_not_chunks(corpus):
    c, rows, responses = corpus
    accepted = sum(r.status_code == 201 for r in responses.values())
    chunks = sum(r.json()["documents"][0]["chunks"] for r in responses.values() if r.status_code == 201)
    health = c.get("/health").json()
    assert set(health) == {"status", "memory_mb", "documents", "chunks", "vocabulary", "uptime_s", "version", "mode",
                           "read_only"}
    assert health["status"] == "ok"
    assert health["documents"] == accepted == 15 and health["chunks"] == chunks > accepted
    assert health["vocabulary"] > 1000
    assert health["mode"] == "extractive" and health["read_only"] is False
    assert health["version"] == "0.1.0" and health["uptime_s"] >= 0
    own_rss = psutil.Process().memory_info().rss / 2**20
    assert abs(health["memory_mb"] - own_rss) < 20, (health["memory_mb"], own_rss)


@pytest.mark.parametrize("query, document", [
    ("Digital Millennium Copyright Act", "dmca-encrypted-empty-user-pw.pdf"),
    ("crazy ones misfits rebels troublemakers", "crazyones.pdf"),
    ("siege of Vicksburg Johnston", "siege-of-vicksburg-scan-ocr.pdf"),
    ("habibi", "habibi-arabic.pdf"),
    ("حَبيبي", "habibi-arabic.pdf"),  # as the PDF spells it, with a fatha
    ("حبيبي", "habibi-arabic.pdf"),  # the usual spelling, without harakat
    ("東京大学の図書館", "cjk.txt"),
    ("Potato 17", "append-xref-loop.pdf"),
])
def test_search_finds_a_phrase_of_an_uploaded_document(corpus, query, document):
    c, _, _ = corpus
    response = c.post("/search", json={"query": query, "top_k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results and results[0]["document_name"] == document
    top = results[0]
    assert set(top) == {"document_id", "document_name", "page", "heading", "score", "text"}
    assert top["score"] > 0 and isinstance(top["text"], str) and top["text"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_search_top_k_bounds_the_results(corpus):
    c, _, _ = corpus
    assert len(c.post("/search", json={"query": "potato"}).json()["results"]) == 10  # the default
    assert len(c.post("/search", json={"query": "potato", "top_k": 1}).json()["results"]) == 1
    assert len(c.post("/search", json={"query": "potato", "top_k": 30}).json()["results"]) == 30
    assert len(c.post("/search", json={"query": "potato", "top_k": 50}).json()["results"]) == 30  # all there are


def test_search_with_no_match_is_empty(corpus):
    c, _, _ = corpus
    assert c.post("/search", json={"query": "zzyzxqwv"}).json() == {"results": []}


def test_list_and_get_documents(corpus):
    c, _, responses = corpus
    accepted = [r.json()["documents"][0] for r in responses.values() if r.status_code == 201]
    listed = c.get("/documents").json()["documents"]
    assert [d["id"] for d in listed] == [d["id"] for d in accepted]
    assert [d["name"] for d in listed] == [d["name"] for d in accepted]
    page = c.get("/documents", params={"limit": 2, "offset": 3}).json()["documents"]
    assert [d["id"] for d in page] == [d["id"] for d in accepted[3:5]]
    one = c.get(f"/documents/{accepted[0]['id']}")
    assert one.status_code == 200 and one.json()["name"] == accepted[0]["name"]
    assert one.json()["pages"] == accepted[0]["pages"] and one.json()["sha256"] == accepted[0]["sha256"]
    assert_error(c.get("/documents/0000000000000000"), 404, "0000000000000000")


@pytest.mark.parametrize("params", [{"limit": "abc"}, {"offset": "x"}, {"limit": "0"}, {"limit": "-5"},
                                    {"offset": "-1"}, {"limit": "2.5"}, {"limit": "²"}, {"offset": "9" * 5000}])
def test_list_documents_rejects_bad_paging(corpus, params):
    c, _, _ = corpus
    name = next(iter(params))
    assert_error(c.get("/documents", params=params), 422, f"`{name}`")


def test_list_documents_caps_the_limit(corpus):
    c, _, _ = corpus
    assert len(c.get("/documents", params={"limit": 100000}).json()["documents"]) == 15


# --- uploads ----------------------------------------------------------------------------------

def test_duplicate_upload_is_200_and_same_document(client, pdf_dir):
    data = (pdf_dir / "crazyones.pdf").read_bytes()
    first = upload(client, "crazyones.pdf", data)
    assert first.status_code == 201 and first.json()["documents"][0]["duplicate"] is False
    again = upload(client, "renamed.pdf", data)
    assert again.status_code == 200
    (document,) = again.json()["documents"]
    assert document["duplicate"] is True and document["id"] == first.json()["documents"][0]["id"]
    assert document["name"] == "crazyones.pdf"  # the stored document, not a second one
    assert client.get("/health").json()["documents"] == 1


def test_several_files_in_one_upload(client):
    files = [("file", ("a.txt", b"alpha bravo charlie", "text/plain")),
             ("file", ("b.md", b"# Title\n\ndelta echo foxtrot", "text/markdown"))]
    response = client.post("/documents", files=files)
    assert response.status_code == 201
    assert [d["name"] for d in response.json()["documents"]] == ["a.txt", "b.md"]
    assert client.get("/health").json()["documents"] == 2


def test_mixed_upload_adds_the_good_and_names_the_bad(client, pdf_dir):
    files = [("file", ("good.txt", b"juliet kilo lima", "text/plain")),
             ("file", ("fake.pdf", (pdf_dir / "fake.pdf").read_bytes(), "application/pdf"))]
    response = client.post("/documents", files=files)
    assert response.status_code == 201
    body = response.json()
    assert [d["name"] for d in body["documents"]] == ["good.txt"]
    (error,) = body["errors"]
    assert error["name"] == "fake.pdf" and error["status"] == 422 and "PNG" in error["error"]


def test_all_duplicates_with_a_refusal_is_200(client):
    upload(client, "a.txt", b"mike november oscar")
    files = [("file", ("a.txt", b"mike november oscar", "text/plain")), ("file", ("e.txt", b"", "text/plain"))]
    response = client.post("/documents", files=files)
    assert response.status_code == 200 and response.json()["documents"][0]["duplicate"] is True
    assert response.json()["errors"][0]["status"] == 422


def test_uploaded_file_name_is_reduced_to_its_base_name(client):
    response = upload(client, "../../etc/passwd.txt", b"papa quebec romeo")
    assert response.json()["documents"][0]["name"] == "passwd.txt"
    response = upload(client, "C:\\Users\\me\\notes.txt", b"sierra tango uniform")
    assert response.json()["documents"][0]["name"] == "notes.txt"


@pytest.mark.parametrize("name, data, phrase", [
    ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG image"),
    ("report.docx", b"PK\x03\x04" + bytes(200), "ZIP archive"),
    ("program.exe", b"MZ\x90\x00" + bytes(300), "upload PDF"),
])
def test_unsupported_type_is_415(client, name, data, phrase):
    assert_error(upload(client, name, data), 415, name, phrase)


def test_empty_text_file_is_422(client):
    assert_error(upload(client, "blank.txt", b"   \n\n  ", content_type="text/plain"), 422, "blank.txt")


def test_upload_must_be_multipart_with_a_file_field(client):
    assert_error(client.post("/documents", content=b"hello", headers={"content-type": "text/plain"}),
                 415, "multipart/form-data")
    assert_error(client.post("/documents", json={"file": "x"}), 415, "multipart/form-data")
    assert_error(client.post("/documents", files={"document": ("a.txt", b"hello")}), 400, "`file`")
    assert_error(client.post("/documents", data={"file": "not a file part"},
                             files={"other": ("a.txt", b"x")}), 400, "`file`")
    malformed = client.post("/documents", content=b"this is not multipart",
                            headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert_error(malformed, 400, "malformed multipart")


def test_upload_over_the_limit_is_413(pdf_dir):
    with TestClient(make_app(MAX_UPLOAD_MB=0.1)) as c:
        assert upload(c, "crazyones.pdf", (pdf_dir / "crazyones.pdf").read_bytes()).status_code == 201
        big = (pdf_dir / "federal-register-2020-17221.pdf").read_bytes()
        assert_error(upload(c, "fr.pdf", big), 413, "MAX_UPLOAD_MB=0.1")
        assert c.get("/health").json()["documents"] == 1


class Body:
    """An ASGI receive() that serves a request body chunk by chunk and counts what was read."""

    def __init__(self, chunks) -> None:
        self.chunks, self.read, self.calls = iter(chunks), 0, 0

    async def __call__(self) -> dict:
        self.calls += 1
        chunk = next(self.chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}


def call_asgi(app, method: str, path: str, headers: dict[str, str], body: Body) -> tuple[int, dict]:
    """One request straight through the ASGI interface: (status, JSON body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1234), "server": ("testserver", 80)}
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, body, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload)


def endless(size: int = 64 * 1024):
    yield b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
    while True:
        yield b"x" * size


MULTIPART = {"content-type": "multipart/form-data; boundary=BOUNDARY"}


def test_declared_content_length_over_the_limit_is_refused_before_reading():
    app = make_app(MAX_UPLOAD_MB=1)
    body = Body(endless())
    status, payload = call_asgi(app, "POST", "/documents", MULTIPART | {"content-length": str(50 * 2**20)}, body)
    assert status == 413 and "MAX_UPLOAD_MB=1" in payload["error"]
    assert body.calls == 0 and body.read == 0  # not a byte of the body was read


def test_chunked_upload_without_length_is_cut_off_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # where the upload's temporary file goes
    app = make_app(MAX_UPLOAD_MB=0.5)
    body = Body(endless())
    status, payload = call_asgi(app, "POST", "/documents", MULTIPART | {"transfer-encoding": "chunked"}, body)
    assert status == 413 and "MAX_UPLOAD_MB=0.5" in payload["error"]
    assert 0.5 * 2**20 < body.read <= 0.5 * 2**20 + 2 * 64 * 1024  # stopped right after passing the limit
    assert list(tmp_path.iterdir()) == []  # the partial temporary file is gone


def test_uploads_are_refused_near_the_memory_limit():
    with TestClient(make_app(MEMORY_LIMIT_MB=1)) as c:
        response = upload(c, "a.txt", b"victor whiskey xray")
        assert_error(response, 503, "MEMORY_LIMIT_MB=1")
        assert response.headers["retry-after"] == "30"
        assert c.post("/search", json={"query": "victor"}).status_code == 200
        assert c.post("/ask", json={"question": "victor?"}).status_code == 200


# --- delete -----------------------------------------------------------------------------------

def test_deleted_document_is_never_found_again(client, pdf_dir):
    keep = upload(client, "keep.txt", b"The zebra grazes beside the river.").json()["documents"][0]
    gone = upload(client, "crazyones.pdf", (pdf_dir / "crazyones.pdf").read_bytes()).json()["documents"][0]
    query = {"query": "crazy ones misfits zebra", "top_k": 50}
    assert {r["document_id"] for r in client.post("/search", json=query).json()["results"]} == {keep["id"], gone["id"]}

    response = client.delete(f"/documents/{gone['id']}")
    assert response.status_code == 200 and response.json() == {"deleted": gone["id"]}
    assert {r["document_id"] for r in client.post("/search", json=query).json()["results"]} == {keep["id"]}
    answer = client.post("/ask", json={"question": "Who are the crazy ones?", "top_k": 50}).json()
    assert all(s["document_id"] != gone["id"] for s in answer["sources"])
    assert_error(client.get(f"/documents/{gone['id']}"), 404)
    assert_error(client.delete(f"/documents/{gone['id']}"), 404, gone["id"])
    assert [d["id"] for d in client.get("/documents").json()["documents"]] == [keep["id"]]
    health = client.get("/health").json()
    assert health["documents"] == 1 and health["chunks"] == keep["chunks"]

    again = upload(client, "crazyones.pdf", (pdf_dir / "crazyones.pdf").read_bytes())
    assert again.status_code == 201 and again.json()["documents"][0]["duplicate"] is False
    assert client.post("/search", json={"query": "misfits"}).json()["results"][0]["document_name"] == "crazyones.pdf"


# --- API key ----------------------------------------------------------------------------------

def test_api_key_guards_writes_and_metrics(monkeypatch):
    compared = []
    real = rag.api.hmac.compare_digest
    monkeypatch.setattr(rag.api.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    with TestClient(make_app(API_KEY=KEY)) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"},
                        {"Authorization": KEY}, {"Authorization": f"Bearer {KEY}x"}):
            response = upload(c, "a.txt", b"alpha", headers=headers)
            assert_error(response, 401, "Authorization: Bearer")
            assert response.headers["www-authenticate"] == "Bearer"
        assert c.get("/health").json()["documents"] == 0
        assert (KEY + "x").encode() in [a for a, _ in compared]  # the key is checked with hmac.compare_digest

        added = upload(c, "a.txt", b"alpha bravo", headers={"authorization": f"bearer {KEY}"})
        assert added.status_code == 201
        uid = added.json()["documents"][0]["id"]
        assert_error(c.delete(f"/documents/{uid}"), 401)
        assert_error(c.get("/metrics"), 401)
        assert c.get("/metrics", headers=AUTH).status_code == 200

        # reads stay public
        assert c.get("/health").status_code == 200
        assert c.get("/documents").status_code == 200 and c.get(f"/documents/{uid}").status_code == 200
        assert c.post("/search", json={"query": "alpha"}).json()["results"]
        assert c.post("/ask", json={"question": "alpha?"}).status_code == 200
        assert c.get("/v1/models").status_code == 200
        chat = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "alpha?"}]})
        assert chat.status_code == 200

        assert c.delete(f"/documents/{uid}", headers=AUTH).status_code == 200


def test_protect_reads_guards_reads_too():
    with TestClient(make_app(API_KEY=KEY, PROTECT_READS=True)) as c:
        assert upload(c, "a.txt", b"alpha bravo", headers=AUTH).status_code == 201
        uid = c.get("/documents", headers=AUTH).json()["documents"][0]["id"]
        reads = [("GET", "/documents", None), ("GET", f"/documents/{uid}", None),
                 ("POST", "/search", {"query": "alpha"}), ("POST", "/ask", {"question": "alpha?"}),
                 ("GET", "/v1/models", None),
                 ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "alpha?"}]})]
        for method, path, body in reads:
            assert_error(c.request(method, path, json=body), 401, "API key")
            assert c.request(method, path, json=body, headers=AUTH).status_code == 200, path
        assert c.get("/health").status_code == 200  # liveness stays public


def test_without_api_key_everything_is_open(client):
    uid = upload(client, "a.txt", b"alpha bravo").json()["documents"][0]["id"]
    assert client.get("/metrics").status_code == 200
    assert client.delete(f"/documents/{uid}").status_code == 200


# --- request validation -----------------------------------------------------------------------

@pytest.mark.parametrize("top_k", [0, 51, -1, "5", 2.5, True, None, [3]])
@pytest.mark.parametrize("route, field", [("/search", "query"), ("/ask", "question")])
def test_top_k_must_be_a_whole_number_from_1_to_50(client, route, field, top_k):
    assert_error(client.post(route, json={field: "alpha", "top_k": top_k}), 422, "`top_k`", "1 to 50")


@pytest.mark.parametrize("route", ["/search", "/ask", "/v1/chat/completions"])
def test_bad_json_is_400(client, route):
    for raw in (b"{not json", b"", "{\"query\": \"caf\xe9\"}".encode("latin-1")):
        response = client.post(route, content=raw, headers={"content-type": "application/json"})
        assert_error(response, 400, "JSON")
    assert_error(client.post(route, json=["a", "list"]), 400, "JSON object")


@pytest.mark.parametrize("route, field", [("/search", "query"), ("/ask", "question")])
def test_text_field_is_required(client, route, field):
    for body in ({}, {field: ""}, {field: "   "}, {field: 42}, {field: None}):
        assert_error(client.post(route, json=body), 422, f"`{field}`")


def test_unknown_route_and_wrong_method_answer_in_the_error_shape(client):
    assert_error(client.get("/nowhere"), 404)
    assert_error(client.get("/search"), 405)
    assert_error(client.put("/documents"), 405)


def test_home_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


# --- ask --------------------------------------------------------------------------------------

@pytest.fixture
def crazy(client, pdf_dir):
    assert upload(client, "crazyones.pdf", (pdf_dir / "crazyones.pdf").read_bytes()).status_code == 201
    assert upload(client, "other.txt", b"Bananas are yellow fruit grown in the tropics.").status_code == 201
    return client


def test_ask_answers_extractively_with_numbered_sources(crazy):
    response = crazy.post("/ask", json={"question": "Who are the crazy ones?", "top_k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "extractive" and "fallback_reason" not in body
    assert [s["number"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))
    assert 1 <= len(body["sources"]) <= 2 and body["sources"][0]["document_name"] == "crazyones.pdf"
    assert body["cited"] and set(body["cited"]) <= {s["number"] for s in body["sources"]}
    assert "crazy" in body["answer"].lower()
    for n in map(int, re.findall(r"\[(\d+)\]", body["answer"])):
        assert n in body["cited"]
    for source in body["sources"]:
        assert set(source) == {"number", "document_id", "document_name", "page", "heading", "score", "text"}


def test_ask_stream_sends_deltas_then_sources_then_done(crazy):
    question = {"question": "Who are the crazy ones?", "top_k": 2}
    plain = crazy.post("/ask", json=question).json()
    response = crazy.post("/ask", json=question | {"stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["sources", "done"] and set(names[:-2]) == {"delta"} and len(names) > 3
    text = "".join(data["text"] for name, data in events if name == "delta")
    sources, done = events[-2][1], events[-1][1]
    assert text == done["answer"] == plain["answer"]
    assert sources["sources"] == plain["sources"] and sources["cited"] == done["cited"] == plain["cited"]
    assert sources["mode"] == done["mode"] == "extractive"


def test_ask_with_nothing_to_find(client):
    body = client.post("/ask", json={"question": "What is the capital of Peru?"}).json()
    assert body == {"answer": NOTHING_FOUND, "mode": "extractive", "sources": [], "cited": []}
    events = sse_events(client.post("/ask", json={"question": "Peru?", "stream": True}).text)
    assert [n for n, _ in events][-2:] == ["sources", "done"] and events[-1][1]["answer"] == NOTHING_FOUND


# --- OpenAI-compatible routes (in-process; tests/test_openai_compat.py drives them with openai) -

def test_models_lists_the_rag_model(client):
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["rag"]


def test_chat_completion_answers_the_last_user_message(crazy):
    messages = [{"role": "user", "content": "Tell me about bananas"}, {"role": "assistant", "content": "Yellow."},
                {"role": "user", "content": "Who are the crazy ones?"}]
    body = crazy.post("/v1/chat/completions", json={"model": "rag", "messages": messages, "top_k": 1}).json()
    assert body["object"] == "chat.completion" and body["model"] == "rag"
    assert body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].endswith("\n\nSources:\n[1] crazyones.pdf, page 1")
    assert [s["document_name"] for s in body["sources"]] == ["crazyones.pdf"] and body["mode"] == "extractive"


def test_chat_completion_stream_is_openai_chunks(crazy):
    body = {"messages": [{"role": "user", "content": "Who are the crazy ones?"}], "stream": True, "top_k": 1}
    response = crazy.post("/v1/chat/completions", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"  # proxies pass each chunk on at once
    frames = [f.removeprefix("data: ") for f in response.text.split("\n\n") if f]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["mode"] == "extractive"
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "[1]" in content and content.endswith("Sources:\n[1] crazyones.pdf, page 1")


@pytest.mark.parametrize("body", [{}, {"messages": []}, {"messages": "hi"},
                                  {"messages": [{"role": "system", "content": "be brief"}]},
                                  {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
                                  {"messages": [{"role": "user", "content": "  "}]}])
def test_chat_completion_needs_a_user_message(client, body):
    assert_error(client.post("/v1/chat/completions", json=body), 422, "`messages`")


def test_chat_completion_validates_top_k(client):
    body = {"messages": [{"role": "user", "content": "hi"}], "top_k": 99}
    assert_error(client.post("/v1/chat/completions", json=body), 422, "`top_k`")


# --- metrics ----------------------------------------------------------------------------------

def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)$"
    values = [float(m.group(1)) for m in re.finditer(pattern, text, re.M)]
    assert len(values) == 1, f"{name}{{{wanted}}} not exactly once in:\n{text}"
    return values[0]


def test_metrics_count_requests_latency_memory_and_index(crazy):
    for _ in range(3):
        crazy.post("/search", json={"query": "crazy"})
    crazy.post("/search", json={"query": ""})
    crazy.post("/ask", json={"question": "crazy?"})
    crazy.get("/documents/nope")
    response = crazy.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert metric(text, "http_requests_total", route="/search", method="POST", status="200") == 3
    assert metric(text, "http_requests_total", route="/search", method="POST", status="422") == 1
    assert metric(text, "http_requests_total", route="/documents", method="POST", status="201") == 2
    assert metric(text, "http_requests_total", route="/ask", method="POST", status="200") == 1
    assert metric(text, "http_requests_total", route="/documents/{id}", method="GET", status="404") == 1
    assert metric(text, "http_request_duration_seconds_count", route="/search") == 4
    assert metric(text, "http_request_duration_seconds_bucket", route="/search", le="+Inf") == 4
    assert metric(text, "http_request_duration_seconds_sum", route="/search") > 0
    buckets = [float(v) for v in re.findall(r'http_request_duration_seconds_bucket\{route="/search",le="[^+]\S*"\} (\S+)', text)]
    assert buckets == sorted(buckets) and buckets[-1] <= 4  # cumulative
    rss = metric(text, "process_resident_memory_bytes")
    assert abs(rss / 2**20 - psutil.Process().memory_info().rss / 2**20) < 20
    health = crazy.get("/health").json()
    assert metric(text, "index_documents") == health["documents"] == 2
    assert metric(text, "index_chunks") == health["chunks"]
    assert metric(text, "index_vocabulary_terms") == health["vocabulary"]
    assert "# TYPE llm_calls_total counter" in text and "llm_calls_total{" not in text  # no provider
    assert "# TYPE http_request_duration_seconds histogram" in text
    again = crazy.get("/metrics").text  # the scrape itself is counted
    assert metric(again, "http_requests_total", route="/metrics", method="GET", status="200") == 1


# --- configuration errors stop the start --------------------------------------------------------

@pytest.mark.parametrize("settings, phrase", [
    ({"LLM_BASE_URL": "http://127.0.0.1:9/v1"}, "LLM_MODEL is empty"),
    ({"LLM_BASE_URL": "localhost:11434", "LLM_MODEL": "m"}, "not an http(s) URL"),
    ({"LLM_API_KEY": "sk-x"}, "LLM_BASE_URL is empty"),
    ({"PROMPT_DIR": "/nonexistent/prompts"}, "cannot read prompt template"),
])
def test_bad_llm_or_prompt_settings_fail_at_startup(settings, phrase):
    with pytest.raises(ValueError, match=re.escape(phrase)):
        with TestClient(make_app(**settings)):
            pass


@pytest.mark.parametrize("route", ["/search", "/ask", "/v1/chat/completions"])
def test_json_bodies_over_a_megabyte_are_413(route):
    app = make_app()
    oversize = b'{"query": "' + b"a" * (2 * 2**20) + b'"}'
    with TestClient(app) as c:
        response = c.post(route, content=oversize, headers={"content-type": "application/json"})
        assert_error(response, 413, "larger than 1024 KB")
        assert c.post(route, json={"query": "a" * 1000, "question": "b" * 1000,
                                   "messages": [{"role": "user", "content": "c" * 1000}]}).status_code == 200
    declared = Body([b"{}"])
    status, _ = call_asgi(app, "POST", route, {"content-type": "application/json",
                                               "content-length": str(2 * 2**20)}, declared)
    assert status == 413 and declared.calls == 0
    streamed = Body(b"x" * 65536 for _ in range(1000))  # 64 MB if read to the end
    status, _ = call_asgi(app, "POST", route, {"content-type": "application/json"}, streamed)
    assert status == 413 and streamed.read <= 2**20 + 65536


def test_too_many_files_in_one_upload_is_413(client):
    files = [("file", (f"f{i}.txt", f"word{i} text".encode(), "text/plain")) for i in range(21)]
    assert_error(client.post("/documents", files=files), 413, "at most 20 files")
    assert client.get("/health").json()["documents"] == 0


def test_jsonl_upload_adds_one_document_per_record(client):
    lines = "\n".join(json.dumps({"_id": f"d{i}", "title": f"Walrus {i}", "text": f"walrus record {i}"})
                      for i in range(3)).encode()
    response = upload(client, "corpus.jsonl", lines)
    assert response.status_code == 201
    assert [(d["name"], d["source_id"]) for d in response.json()["documents"]] == [
        ("Walrus 0", "d0"), ("Walrus 1", "d1"), ("Walrus 2", "d2")]
    assert client.get("/health").json()["documents"] == 3
    assert_error(upload(client, "bad.jsonl", b'{"_id": "x"}\n'), 422, "bad.jsonl line 1", '"text"')


def test_chunked_upload_limit_counts_all_its_files():
    """Without Content-Length the limit is on the whole upload too, not on each file."""
    part = 'Content-Disposition: form-data; name="file"; filename="{}"\r\n\r\n'
    chunks = [f"--BOUNDARY\r\n{part.format('a.txt')}".encode(), b"alpha " * 50_000,  # 0.3 MB each
              f"\r\n--BOUNDARY\r\n{part.format('b.txt')}".encode(), b"bravo " * 50_000, b"\r\n--BOUNDARY--\r\n"]
    app = make_app(MAX_UPLOAD_MB=0.5)
    status, payload = call_asgi(app, "POST", "/documents", MULTIPART | {"transfer-encoding": "chunked"}, Body(chunks))
    assert status == 413 and "MAX_UPLOAD_MB=0.5" in payload["error"]
    status, _ = call_asgi(app, "POST", "/documents", MULTIPART, Body(chunks[:2] + chunks[-1:]))
    assert status == 201

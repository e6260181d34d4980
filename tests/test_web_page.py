"""The web page (static/index.html), end to end: real headless Chromium against a real server process.

Set UPDATE_SCREENSHOT=1 to rewrite docs/screenshot.png (1200x800, after an answer).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PDFS = REPO.parent / "shared" / "data" / "pdfs"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("playwright for Python not installed (pip install playwright)", allow_module_level=True)
if not (PDFS / "crazyones.pdf").is_file():
    pytest.skip(f"shared PDFs not found at {PDFS}", allow_module_level=True)

# Anything that could switch on LLM answers, keys or read-only mode is left out of the server's env.
SCRUB = re.compile(r"^(LLM_|OPENROUTER_|GROQ_|OPENAI_|API_KEY$|PROTECT_READS$|READ_ONLY$|MEMORY_LIMIT_MB$)")
KEY = "test-key-7f3a"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = tmp / "data"
        data.mkdir(parents=True)
        self.log_path = tmp / "server.log"
        full = {k: v for k, v in os.environ.items() if not SCRUB.match(k)}
        full |= {"DATA_DIR": str(data), "PORT": str(self.port), "HOST": "127.0.0.1", **env}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "server.py"], cwd=REPO, env=full,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if json.load(r).get("status") == "ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"server not healthy after 30 s:\n{self.log_text()}")
            time.sleep(0.1)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path):
    servers = []

    def start(**env):
        servers.append(Server(tmp_path / f"s{len(servers)}", **env))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()
        print(f"--- server log ({s.url}) ---\n{s.log_text()}")  # shown by pytest only when the test fails


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800}, color_scheme="light")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15_000)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _upload(pg, path: Path):
    """Choose ``path`` in the file input; returns the server's response to the POST."""
    with pg.expect_response(lambda r: r.url.endswith("/documents") and r.request.method == "POST") as info:
        pg.set_input_files("#file", str(path))
    return info.value


def test_upload_ask_cite_delete_refuse(server, page, tmp_path):
    srv = server()
    pg = page
    pg.goto(srv.url)
    expect(pg).to_have_title(re.compile("documents", re.I))
    expect(pg.locator("#stats")).to_contain_text("MB")
    expect(pg.locator("#docs")).to_contain_text("No documents yet")

    # Upload three files at once through the file input (one request each, with progress):
    # listed with name, pages and chunks; the header counts them.
    files = ["crazyones.pdf", "pdflatex-4-pages.pdf", "google-doc-document.pdf"]
    pg.set_input_files("#file", [str(PDFS / f) for f in files])
    rows = pg.locator("#docs li[data-id]")
    expect(rows).to_have_count(3, timeout=30_000)
    expect(pg.locator("#uploads li.ok")).to_have_count(3)
    expect(pg.locator("#stats")).to_contain_text("3 documents")
    with urllib.request.urlopen(srv.url + "/documents") as r:
        listed = {d["name"]: d for d in json.load(r)["documents"]}
    assert sorted(listed) == sorted(files)
    doc = listed["crazyones.pdf"]
    row = rows.filter(has_text="crazyones.pdf")
    expect(row).to_contain_text("1 page")
    expect(row).to_contain_text(f"{doc['chunks']} chunk")
    expect(rows.filter(has_text="pdflatex-4-pages.pdf")).to_contain_text("4 pages")

    # Ask (Enter submits): the answer streams in as SSE and the mode is shown as extractive.
    pg.fill("#q", "Who are the crazy ones?")
    with pg.expect_response("**/ask") as info:
        pg.press("#q", "Enter")
    assert info.value.headers["content-type"].startswith("text/event-stream")
    expect(pg.locator("#foot")).to_contain_text("Answered", timeout=20_000)
    expect(pg.locator("#mode")).to_have_attribute("data-mode", "extractive")
    expect(pg.locator("#mode")).to_contain_text("Extractive")
    answer = pg.locator("#answer")
    expect(answer).to_contain_text(re.compile("crazy", re.I))
    expect(answer).to_have_attribute("aria-live", "polite")
    expect(answer).to_have_attribute("aria-busy", "false")
    expect(pg.locator("#sources li").first).to_contain_text("crazyones.pdf")

    shot = REPO / "docs" / "screenshot.png" if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / "shot.png"
    shot.parent.mkdir(exist_ok=True)
    pg.locator("#msg").evaluate("m => m.textContent = ''")
    pg.evaluate("document.activeElement.blur()")
    pg.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # A citation marker opens the passage; Escape closes it and focus returns to the marker.
    cite = answer.locator("button.cite").first
    expect(cite).to_be_visible()
    cite.click()
    dialog = pg.locator("#passage")
    expect(dialog).to_be_visible()
    expect(pg.locator("#p-title")).to_contain_text("crazyones.pdf")
    expect(pg.locator("#p-meta")).to_contain_text("Page 1")
    expect(pg.locator("#p-text")).to_contain_text(re.compile("crazy ones", re.I))
    pg.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cite).to_be_focused()

    # Readable on a phone: no horizontal scroll at 375 px.
    pg.set_viewport_size({"width": 375, "height": 740})
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    pg.set_viewport_size({"width": 1200, "height": 800})

    # Delete (two presses: Delete, then Confirm): gone from the list and the header.
    delete = row.get_by_role("button", name=re.compile("Delete crazyones.pdf"))
    delete.click()
    expect(row.get_by_role("button")).to_have_text("Confirm")
    with pg.expect_response(lambda r: r.request.method == "DELETE") as info:
        row.get_by_role("button").click()
    assert info.value.status == 200 and info.value.json() == {"deleted": doc["id"]}
    expect(row).to_have_count(0)
    expect(rows).to_have_count(2)
    expect(pg.locator("#stats")).to_contain_text("2 documents")

    # A PNG named .pdf is refused, and the server's reason is shown beside the file.
    resp = _upload(pg, PDFS / "fake.pdf")
    assert 400 <= resp.status < 500
    reason = resp.json()["error"]
    bad = pg.locator("#uploads li.bad")
    expect(bad).to_contain_text("fake.pdf")
    expect(bad).to_contain_text("Refused: " + reason)
    expect(rows).to_have_count(2)


def test_api_key_is_asked_once_then_used(server, page):
    srv = server(API_KEY=KEY)
    pg = page
    pg.goto(srv.url)
    expect(pg.locator("#docs")).to_contain_text("No documents yet")

    # The first upload gets 401: the page asks for the key, then retries with it.
    with pg.expect_response(lambda r: r.url.endswith("/documents") and r.request.method == "POST") as first:
        pg.set_input_files("#file", str(PDFS / "crazyones.pdf"))
    assert first.value.status == 401
    dialog = pg.locator("#keydlg")
    expect(dialog).to_be_visible()
    expect(pg.locator("#key")).to_be_focused()
    # A wrong key is refused and asked for again.
    pg.fill("#key", "wrong")
    with pg.expect_response(lambda r: r.url.endswith("/documents") and r.request.method == "POST") as wrong:
        pg.get_by_role("button", name="Use key").click()
    assert wrong.value.status == 401
    expect(dialog).to_be_visible()
    expect(pg.locator("#k-msg")).to_contain_text("refused")
    pg.fill("#key", KEY)
    with pg.expect_response(lambda r: r.url.endswith("/documents") and r.request.method == "POST") as retry:
        pg.press("#key", "Enter")
    assert retry.value.status == 201
    assert retry.value.request.headers["authorization"] == f"Bearer {KEY}"
    expect(dialog).to_be_hidden()
    expect(pg.locator("#docs li[data-id]")).to_have_count(1)
    assert pg.evaluate("sessionStorage.getItem('rag-api-key')") == KEY

    # Kept for the session: a dropped file (drag and drop) uploads without asking again.
    with pg.expect_response(lambda r: r.url.endswith("/documents") and r.request.method == "POST") as dropped:
        pg.locator("#drop").evaluate("""zone => {
            const dt = new DataTransfer();
            dt.items.add(new File(["Lighthouses guide ships at night with a rotating lamp."], "notes.txt", {type: "text/plain"}));
            for (const type of ["dragenter", "dragover", "drop"])
                zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""")
    assert dropped.value.status == 201, dropped.value.text()
    expect(pg.locator("#docs li[data-id]")).to_have_count(2)
    expect(pg.locator("#docs")).to_contain_text("notes.txt")
    expect(dialog).to_be_hidden()

    # A delete goes through with the kept key too.
    row = pg.locator("#docs li[data-id]").filter(has_text="crazyones.pdf")
    row.get_by_role("button").click()
    with pg.expect_response(lambda r: r.request.method == "DELETE") as info:
        row.get_by_role("button").click()
    assert info.value.status == 200
    expect(row).to_have_count(0)
    expect(pg.locator("#docs li[data-id]")).to_have_count(1)
    expect(dialog).to_be_hidden()

"""Server figures: spawn to first answered /search, and RSS after 1,000 searches.

    .venv/bin/python bench/server_figures.py [--collection scifact] [--runs 5] [--searches 1000]

Ingests the collection into a temporary DATA_DIR (once), then, median of
--runs each: spawn `python server.py` and time until POST /search first
answers; spawn a bare Starlette app (one route, uvicorn) and time until it
first answers. Then one server answers --searches queries one at a time and
reports its RSS (psutil, from outside) and the memory_mb /health reports.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
BARE_APP = '''
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
import uvicorn, sys
async def search(request):
    return JSONResponse({"results": []})
uvicorn.run(Starlette(routes=[Route("/search", search, methods=["POST"])]), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning")
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: dict, timeout: float = 5.0) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def spawn(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def time_to_first_search(command: list[str], env: dict, port: int) -> float:
    started = time.perf_counter()
    process = spawn(command, env)
    try:
        while True:
            try:
                post(f"http://127.0.0.1:{port}/search", {"query": "cells in mice", "top_k": 10}, timeout=1.0)
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait()


def server_env(data_dir: str, port: int) -> dict:
    drop = ("LLM_BASE_URL", "LLM_API_KEY", "OPENROUTER_API_KEY", "GROQ_API_KEY", "API_KEY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return env | {"DATA_DIR": data_dir, "PORT": str(port), "HOST": "127.0.0.1"}


def spawn_times(data_dir: str, runs: int) -> tuple[list[float], list[float]]:
    ours, bare = [], []
    for _ in range(runs):
        port = free_port()
        ours.append(time_to_first_search([str(PYTHON), "server.py"], server_env(data_dir, port), port))
        port = free_port()
        bare.append(time_to_first_search([str(PYTHON), "-c", BARE_APP, str(port)], dict(os.environ), port))
    return ours, bare


def memory_after_searches(data_dir: str, queries: list[str], searches: int) -> dict:
    port = free_port()
    process = spawn([str(PYTHON), "server.py"], server_env(data_dir, port))
    try:
        time_to_first_search_wait(port)
        for i in range(searches):
            post(f"http://127.0.0.1:{port}/search", {"query": queries[i % len(queries)], "top_k": 10})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health") as response:
            health = json.loads(response.read())
        rss = psutil.Process(process.pid).memory_info().rss / 2**20
        return {"rss_mb": round(rss, 1), "health_memory_mb": health["memory_mb"], "documents": health["documents"]}
    finally:
        process.terminate()
        process.wait()


def time_to_first_search_wait(port: int) -> None:
    while True:
        try:
            post(f"http://127.0.0.1:{port}/search", {"query": "warm", "top_k": 1}, timeout=1.0)
            return
        except OSError:
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", default="scifact")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--searches", type=int, default=1000)
    args = parser.parse_args()
    collection = REPO.parent / "shared" / "data" / "beir" / args.collection
    queries = [json.loads(line)["text"] for line in open(collection / "queries.jsonl", encoding="utf-8")]
    with tempfile.TemporaryDirectory() as data_dir:
        subprocess.run([str(PYTHON), "server.py", "ingest", "--data-dir", data_dir, str(collection / "corpus.jsonl.gz")],
                       cwd=REPO, check=True, capture_output=True)
        ours, bare = spawn_times(data_dir, args.runs)
        memory = memory_after_searches(data_dir, queries, args.searches)
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"spawn to first /search, {args.collection} on disk: median {statistics.median(ours) * 1000:.0f} ms"
          f" (runs {[round(t * 1000) for t in ours]})")
    print(f"bare Starlette app, spawn to first response: median {statistics.median(bare) * 1000:.0f} ms"
          f" (runs {[round(t * 1000) for t in bare]}); ratio {ratio:.2f}")
    print(f"after {args.searches} searches: RSS {memory['rss_mb']} MB (psutil, outside), /health memory_mb"
          f" {memory['health_memory_mb']}, documents {memory['documents']}")
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

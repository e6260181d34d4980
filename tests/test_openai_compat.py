"""The `openai` package as a real client of our /v1 routes, on live uvicorn servers.

Three servers for the module (uvicorn threads on free ports, one shared in-memory
library): extractive (no provider; API_KEY="x" with PROTECT_READS, which the
openai client sends as its bearer key), llm (the fake provider behind it) and
strict (the fake provider, ANSWER_FALLBACK off).
"""
from __future__ import annotations

import socket
import threading
import time

import openai
import pytest
import uvicorn

from rag.library import Library
from rag.prompting import MAX_HISTORY_CHARS, MAX_TURNS
from rag.settings import Settings
from server import create_app
from store import SQLiteStore
from tests.fake_provider import _SERVER_KEY, MODEL, FakeServer, Reply, fake_provider  # noqa: F401  (fixture)

QUESTION = "Who are the crazy ones?"
BANANAS = "Bananas are long yellow fruit. Banana plants grow in the tropics and crazy monkeys love them."


class ThreadServer:
    """A uvicorn server for ``app`` in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, f"server on {self.url} did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@pytest.fixture(scope="module")
def fake_server(request) -> FakeServer:
    """The session's fake provider server (the ``fake_provider`` fixture resets its endpoint "a")."""
    server = request.config.stash.get(_SERVER_KEY, None)
    if server is None:
        server = request.config.stash[_SERVER_KEY] = FakeServer().start()
        request.config.add_cleanup(server.stop)
    return server


@pytest.fixture(scope="module")
def servers(pdf_dir, tmp_path_factory, fake_server):
    base = Settings(DATA_DIR="unused")
    library = Library(SQLiteStore.memory(), base)
    library.add_file(pdf_dir / "crazyones.pdf", "crazyones.pdf")
    text = tmp_path_factory.mktemp("docs") / "bananas.txt"
    text.write_text(BANANAS)
    library.add_file(text, "bananas.txt")
    library.refresh()
    llm = {"LLM_BASE_URL": fake_server.endpoint("a").url, "LLM_MODEL": MODEL, "LLM_TIMEOUT": 3.0}
    configs = {"extractive": {"API_KEY": "x", "PROTECT_READS": True}, "llm": llm,
               "strict": llm | {"ANSWER_FALLBACK": False}}
    running = {name: ThreadServer(create_app(Settings(DATA_DIR="unused", **values), library=library))
               for name, values in configs.items()}
    yield running
    for server in running.values():
        server.stop()


def client_for(server: ThreadServer, api_key: str = "x") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=api_key, max_retries=0, timeout=20)


def ask(client: openai.OpenAI, messages=None, **kwargs):
    messages = messages or [{"role": "user", "content": QUESTION}]
    return client.chat.completions.create(model="rag", messages=messages, **kwargs)


def collect(stream) -> tuple[str, list]:
    chunks = list(stream)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


# --- extractive (no provider) ----------------------------------------------------------------

def test_models(servers):
    models = client_for(servers["extractive"]).models.list()
    assert [m.id for m in models.data] == ["rag"] and models.data[0].owned_by == "rag-answer-server"


def test_wrong_key_is_an_authentication_error(servers):
    with pytest.raises(openai.AuthenticationError) as caught:
        ask(client_for(servers["extractive"], api_key="wrong"))
    assert caught.value.status_code == 401


def test_plain_extractive_completion(servers):
    completion = ask(client_for(servers["extractive"]), extra_body={"top_k": 1})
    assert completion.object == "chat.completion" and completion.model == "rag"
    assert completion.id.startswith("chatcmpl-")
    (choice,) = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "crazy ones" in choice.message.content and "[1]" in choice.message.content
    assert choice.message.content.endswith("\n\nSources:\n[1] crazyones.pdf, page 1")
    extra = completion.model_extra
    assert extra["mode"] == "extractive"
    assert [s["document_name"] for s in extra["sources"]] == ["crazyones.pdf"] and extra["sources"][0]["number"] == 1


def test_streamed_extractive_completion(servers):
    content, chunks = collect(ask(client_for(servers["extractive"]), stream=True, extra_body={"top_k": 1}))
    assert len(chunks) > 3 and len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["mode"] == "extractive"
    assert "[1]" in content and content.endswith("\n\nSources:\n[1] crazyones.pdf, page 1")
    plain = ask(client_for(servers["extractive"]), extra_body={"top_k": 1}).choices[0].message.content
    assert content == plain


def test_a_request_without_a_user_message_is_422(servers):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        ask(client_for(servers["extractive"]), messages=[{"role": "system", "content": "Be brief."}])
    assert "`messages`" in caught.value.body  # our {"error": "...", "status": 422}: openai keeps the text as .body


# --- with the fake provider behind it -------------------------------------------------------------

def test_plain_llm_completion(servers, fake_provider):
    fake_provider.script(Reply.answer("The misfits and the rebels [1], and not [4]."))
    completion = ask(client_for(servers["llm"]))
    content = completion.choices[0].message.content
    assert content.startswith("The misfits and the rebels [1], and not.")
    assert "Sources:\n[1] crazyones.pdf, page 1" in content and "[2]" not in content  # only the cited source
    assert completion.model_extra["mode"] == "llm"
    (request,) = fake_provider.chat_requests
    for source in completion.model_extra["sources"]:
        assert source["text"].strip() in request.prompt
    assert request.json["messages"][-1]["content"].rstrip().endswith(
        "Answer the question using only the sources above, and cite them as [n].")


def test_streamed_llm_completion(servers, fake_provider):
    fake_provider.script(Reply.answer("They are the misfits [1] and monkeys [2]."))
    content, chunks = collect(ask(client_for(servers["llm"]), stream=True))
    assert content.startswith("They are the misfits [1] and monkeys [2].")
    assert content.endswith("Sources:\n[1] crazyones.pdf, page 1\n[2] bananas.txt")
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["mode"] == "llm"
    assert fake_provider.chat_requests[0].json["stream"] is True


HISTORY = [
    {"role": "system", "content": "You are a pirate."},  # the client's system prompt does not reach the model
    {"role": "user", "content": "Tell me about bananas"},
    {"role": "assistant", "content": "Bananas are long yellow fruit [1]."},
    {"role": "user", "content": QUESTION},
]


@pytest.mark.parametrize("stream", [False, True])
def test_earlier_turns_reach_the_provider(servers, fake_provider, stream):
    completion = ask(client_for(servers["llm"]), messages=HISTORY, stream=stream)
    content = collect(completion)[0] if stream else completion.choices[0].message.content
    assert content.startswith("Echo: ")
    (request,) = fake_provider.chat_requests
    sent = request.json["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1:3] == HISTORY[1:3]
    assert "pirate" not in request.prompt
    assert QUESTION in sent[-1]["content"] and "misfits" in sent[-1]["content"]  # the question with its sources


def test_content_parts_are_read_as_text(servers, fake_provider):
    """Clients may send content as a list of parts ({"type": "text", ...}); their text counts."""
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Tell me"}, {"type": "text", "text": "about bananas"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Bananas are long yellow fruit [1]."}]},
        {"role": "user", "content": [{"type": "text", "text": QUESTION},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
    ]
    completion = ask(client_for(servers["llm"]), messages=messages)
    assert completion.model_extra["sources"][0]["document_name"] == "crazyones.pdf"
    sent = fake_provider.chat_requests[0].json["messages"]
    assert sent[1:3] == [{"role": "user", "content": "Tell me\nabout bananas"},
                         {"role": "assistant", "content": "Bananas are long yellow fruit [1]."}]
    assert QUESTION in sent[-1]["content"] and "base64" not in fake_provider.chat_requests[0].prompt


def test_history_is_bounded(servers, fake_provider):
    turns = []
    for i in range(8):
        turns += [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]
    long = [{"role": "user", "content": "x" * (MAX_HISTORY_CHARS + 1)}, {"role": "assistant", "content": "ok"}]
    ask(client_for(servers["llm"]), messages=long + turns + [{"role": "user", "content": QUESTION}])
    sent = fake_provider.chat_requests[0].json["messages"]
    assert len(sent) == 2 + 2 * MAX_TURNS
    assert [m["content"] for m in sent[1:-1]] == [f"{kind} {i}" for i in range(8 - MAX_TURNS, 8)
                                                   for kind in ("question", "answer")]


def test_provider_failure_falls_back_to_the_extractive_answer(servers, fake_provider):
    fake_provider.script(then=Reply.status(401))
    completion = ask(client_for(servers["llm"]), extra_body={"top_k": 1})
    assert completion.model_extra["mode"] == "extractive"
    assert completion.choices[0].message.content.endswith("Sources:\n[1] crazyones.pdf, page 1")


def test_provider_failure_without_fallback_is_an_api_error(servers, fake_provider):
    fake_provider.script(then=Reply.status(401))
    with pytest.raises(openai.APIStatusError) as caught:
        ask(client_for(servers["strict"]))
    assert caught.value.status_code == 502
    assert "HTTP 401" in caught.value.body and "'custom'" in caught.value.body
    with pytest.raises(openai.APIError) as streamed:
        collect(ask(client_for(servers["strict"]), stream=True))
    assert "HTTP 401" in str(streamed.value)


def test_failure_inside_the_stream_reaches_the_client(servers, fake_provider):
    fake_provider.script(Reply.error_body(400, before="The crazy ones"))
    stream = ask(client_for(servers["llm"]), stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "The crazy ones" and "upstream model failed" in str(caught.value)
    # and the server goes on answering
    assert ask(client_for(servers["llm"])).choices[0].message.content.startswith("Echo: ")

"""The SSE decoder: framing, comments, multi-line data, line endings, [DONE], errors."""
from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.sse import ErrorEvent, SSEError, SSEParser, TruncatedStream, decode_chunk, iter_chunks

STREAM = (
    ": OPENROUTER PROCESSING\n\n"
    'data: {"choices": [{"delta": {"content": "Hel"}}]}\n\n'
    ": OPENROUTER PROCESSING\n\n"
    "event: message\nid: 7\nretry: 100\n"
    'data: {"choices": [{"delta": {"content": "lo"}}]}\n\n'
    "data: [DONE]\n\n"
)
EVENTS = ['{"choices": [{"delta": {"content": "Hel"}}]}', '{"choices": [{"delta": {"content": "lo"}}]}', "[DONE]"]


def parse(*pieces: str) -> list[str]:
    parser = SSEParser()
    events = [event for piece in pieces for event in parser.feed(piece)]
    return events + parser.close()


def chunks(*pieces: str) -> list[dict]:
    async def texts():
        for piece in pieces:
            yield piece

    async def run():
        return [chunk async for chunk in iter_chunks(texts())]

    return asyncio.run(run())


def test_events_are_data_payloads_and_comments_and_other_fields_are_skipped():
    assert parse(STREAM) == EVENTS


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_every_line_ending_is_accepted(newline):
    assert parse(STREAM.replace("\n", newline)) == EVENTS


def test_crlf_split_between_chunks_is_one_line_break():
    assert parse("data: a\r", "\n", "\r", "\ndata: b\r\n\r\n") == ["a", "b"]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_chunking_of_the_stream_gives_the_same_events(cuts, newline):
    text = STREAM.replace("\n", newline)
    bounds = [0, *sorted(cuts), len(text)]
    assert parse(*(text[a:b] for a, b in itertools.pairwise(bounds))) == EVENTS


def test_data_lines_of_one_event_are_joined_with_newlines():
    assert parse('data: {"a":\ndata:  1}\n\n') == ['{"a":\n 1}']


def test_a_space_after_the_colon_is_optional():
    assert parse("data:x\n\ndata: y\n\n") == ["x", "y"]


def test_an_unterminated_last_event_is_still_delivered():
    assert parse("data: [DONE]") == ["[DONE]"]
    assert parse("data: [DONE]\r") == ["[DONE]"]


def test_iter_chunks_parses_json_and_stops_at_done():
    assert chunks(STREAM[:50], STREAM[50:], 'data: {"ignored": true}\n\n') == [
        {"choices": [{"delta": {"content": "Hel"}}]},
        {"choices": [{"delta": {"content": "lo"}}]},
    ]


def test_an_error_object_in_the_stream_raises_error_event():
    with pytest.raises(ErrorEvent) as caught:
        chunks('data: {"choices": []}\n\n', 'data: {"error": {"message": "model overloaded", "code": 503}}\n\n')
    assert caught.value.error["code"] == 503
    assert "model overloaded (code 503)" in str(caught.value)


def test_a_stream_cut_before_done_is_truncated():
    with pytest.raises(TruncatedStream, match=r"\[DONE\]"):
        chunks('data: {"choices": []}\n\n')


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"text"'])
def test_non_object_data_is_an_sse_error(data):
    with pytest.raises(SSEError, match="JSON"):
        decode_chunk(data)

"""Tests of the scripted model server through the real OpenAI and Anthropic SDKs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from tests.support.model_server import (
    EXHAUSTED_TEXT,
    ScriptedFailure,
    ScriptedModelServer,
    ScriptedToolCall,
    ScriptedTurn,
)

# Seconds a client waits for the server, so a broken stream fails the test instead of hanging it.
CLIENT_TIMEOUT = 5.0

MODEL_OPENAI = "gpt-test"
MODEL_ANTHROPIC = "claude-test"
USER_MESSAGES = [{"role": "user", "content": "Which vendor is late?"}]
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_vendor",
            "description": "Look up a vendor by id.",
            "parameters": {"type": "object", "properties": {"vendor_id": {"type": "string"}}},
        },
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "lookup_vendor",
        "description": "Look up a vendor by id.",
        "input_schema": {"type": "object", "properties": {"vendor_id": {"type": "string"}}},
    }
]

LOOKUP_CALL = ScriptedToolCall(id="call_1", name="lookup_vendor", arguments='{"vendor_id": "v-42"}')
MALFORMED_CALL = ScriptedToolCall(id="call_2", name="unknown_tool", arguments='{"vendor_id": ')
PARALLEL_TURN = ScriptedTurn(text="Checking both.", tool_calls=(LOOKUP_CALL, MALFORMED_CALL))


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as running:
        yield running


@pytest.fixture
def openai_client(server: ScriptedModelServer) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="test-key", base_url=server.openai_base_url, max_retries=0, timeout=CLIENT_TIMEOUT
    )


@pytest.fixture
def anthropic_client(server: ScriptedModelServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="test-key", base_url=server.anthropic_base_url, max_retries=0, timeout=CLIENT_TIMEOUT
    )


def stream_openai(client: openai.OpenAI, **extra: object) -> list[ChatCompletionChunk]:
    stream = client.chat.completions.create(
        model=MODEL_OPENAI, messages=USER_MESSAGES, stream=True, **extra
    )
    return list(stream)


def test_openai_stream_reassembles_text(server, openai_client):
    server.push(ScriptedTurn(text="Vendor v-42 is three days late."))

    chunks = stream_openai(openai_client)

    contents = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices[0].delta.content]
    assert "".join(contents) == "Vendor v-42 is three days late."
    assert len(contents) > 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is None


def test_anthropic_stream_reassembles_text(server, anthropic_client):
    server.push(ScriptedTurn(text="Vendor v-42 is three days late."))

    with anthropic_client.messages.stream(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES
    ) as stream:
        pieces = list(stream.text_stream)
        message = stream.get_final_message()

    assert "".join(pieces) == "Vendor v-42 is three days late."
    assert len(pieces) > 1
    assert message.stop_reason == "end_turn"
    assert message.content[0].text == "Vendor v-42 is three days late."


def test_openai_stream_reassembles_parallel_tool_calls(server, openai_client):
    server.push(PARALLEL_TURN)

    chunks = stream_openai(openai_client, tools=OPENAI_TOOLS)

    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            if delta.id is not None:
                assert delta.index not in calls, "only the first chunk of a call carries its id"
                assert delta.type == "function"
                calls[delta.index] = {"id": delta.id, "name": delta.function.name, "arguments": ""}
            calls[delta.index]["arguments"] += delta.function.arguments or ""
    assert calls == {
        0: {"id": "call_1", "name": "lookup_vendor", "arguments": '{"vendor_id": "v-42"}'},
        1: {"id": "call_2", "name": "unknown_tool", "arguments": '{"vendor_id": '},
    }
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_openai_stream_reports_usage_when_requested(server, openai_client):
    server.push(ScriptedTurn(text="Done."))

    chunks = stream_openai(openai_client, stream_options={"include_usage": True})

    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_anthropic_stream_reassembles_parallel_tool_uses(server, anthropic_client):
    second_lookup = ScriptedToolCall(id="toolu_2", name="lookup_vendor", arguments='{"vendor_id": "v-7"}')
    first_lookup = ScriptedToolCall(id="toolu_1", name="lookup_vendor", arguments='{"vendor_id": "v-42"}')
    server.push(ScriptedTurn(text="Checking both.", tool_calls=(first_lookup, second_lookup)))

    with anthropic_client.messages.stream(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES, tools=ANTHROPIC_TOOLS
    ) as stream:
        message = stream.get_final_message()

    assert message.stop_reason == "tool_use"
    assert message.content[0].type == "text"
    assert message.content[0].text == "Checking both."
    tool_uses = [(block.id, block.name, block.input) for block in message.content[1:]]
    assert tool_uses == [
        ("toolu_1", "lookup_vendor", {"vendor_id": "v-42"}),
        ("toolu_2", "lookup_vendor", {"vendor_id": "v-7"}),
    ]


def test_anthropic_raw_events_carry_arguments_verbatim(server, anthropic_client):
    server.push(PARALLEL_TURN)

    events = list(
        anthropic_client.messages.create(
            model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES, tools=ANTHROPIC_TOOLS, stream=True
        )
    )

    types = [event.type for event in events]
    assert types[0] == "message_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    started = {event.index: event.content_block for event in events if event.type == "content_block_start"}
    assert [block.type for block in started.values()] == ["text", "tool_use", "tool_use"]
    assert started[1].id == "call_1"
    assert started[1].name == "lookup_vendor"
    assert started[1].input == {}
    assert started[2].id == "call_2"
    assert started[2].name == "unknown_tool"
    arguments = {1: "", 2: ""}
    for event in events:
        if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            arguments[event.index] += event.delta.partial_json
    assert arguments == {1: '{"vendor_id": "v-42"}', 2: '{"vendor_id": '}
    stops = [event.index for event in events if event.type == "content_block_stop"]
    assert stops == [0, 1, 2]
    assert events[-2].delta.stop_reason == "tool_use"


def test_openai_non_stream_returns_tool_call(server, openai_client):
    server.push(ScriptedTurn(tool_calls=(LOOKUP_CALL,)))

    completion = openai_client.chat.completions.create(
        model=MODEL_OPENAI, messages=USER_MESSAGES, tools=OPENAI_TOOLS
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.id == "call_1"
    assert call.function.name == "lookup_vendor"
    assert call.function.arguments == '{"vendor_id": "v-42"}'
    assert completion.model == MODEL_OPENAI


def test_anthropic_non_stream_returns_tool_use(server, anthropic_client):
    server.push(ScriptedTurn(text="Looking.", tool_calls=(LOOKUP_CALL, MALFORMED_CALL)))

    message = anthropic_client.messages.create(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES, tools=ANTHROPIC_TOOLS
    )

    assert message.stop_reason == "tool_use"
    assert message.content[0].text == "Looking."
    assert message.content[1].id == "call_1"
    assert message.content[1].name == "lookup_vendor"
    assert message.content[1].input == {"vendor_id": "v-42"}
    assert message.content[2].input == {"_raw": '{"vendor_id": '}


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(500, openai.InternalServerError), (429, openai.RateLimitError), (401, openai.AuthenticationError)],
)
def test_openai_failure_raises_status_error(server, openai_client, status, error_class):
    server.push(ScriptedFailure(status=status, message="model backend down"))

    with pytest.raises(error_class) as caught:
        stream_openai(openai_client)

    assert caught.value.status_code == status
    assert "model backend down" in caught.value.message
    assert caught.value.body["message"] == "model backend down"


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (500, anthropic.InternalServerError, "api_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
    ],
)
def test_anthropic_failure_raises_status_error(server, anthropic_client, status, error_class, error_type):
    server.push(ScriptedFailure(status=status, message="model backend down"))

    with pytest.raises(error_class) as caught:
        anthropic_client.messages.create(model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES)

    assert caught.value.status_code == status
    assert "model backend down" in caught.value.message
    assert caught.value.body == {
        "type": "error",
        "error": {"type": error_type, "message": "model backend down"},
    }
    assert caught.value.type == error_type
    assert caught.value.api_message == "model backend down"


def test_openai_mid_stream_failure_raises_connection_error(server, openai_client):
    server.push(ScriptedFailure(message="partial answer", mid_stream=True))
    received: list[str] = []

    with pytest.raises(openai.APIConnectionError):
        for chunk in openai_client.chat.completions.create(
            model=MODEL_OPENAI, messages=USER_MESSAGES, stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) != ""
    assert "".join(received) in "partial answer"


def test_anthropic_mid_stream_failure_raises_connection_error(server, anthropic_client):
    server.push(ScriptedFailure(message="partial answer", mid_stream=True))
    received: list[str] = []

    with pytest.raises(anthropic.APIConnectionError):
        with anthropic_client.messages.stream(
            model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES
        ) as stream:
            for text in stream.text_stream:
                received.append(text)

    assert "".join(received) != ""
    assert "".join(received) in "partial answer"


def test_mid_stream_failure_breaks_non_stream_response(server, openai_client):
    server.push(ScriptedFailure(mid_stream=True))

    with pytest.raises(openai.APIConnectionError):
        openai_client.chat.completions.create(model=MODEL_OPENAI, messages=USER_MESSAGES)


def test_server_records_openai_tool_result(server, openai_client):
    server.push(ScriptedTurn(tool_calls=(LOOKUP_CALL,)), ScriptedTurn(text="v-42 is late."))

    first = openai_client.chat.completions.create(model=MODEL_OPENAI, messages=USER_MESSAGES, tools=OPENAI_TOOLS)
    tool_result = {"role": "tool", "tool_call_id": "call_1", "content": '{"late_days": 3}'}
    second_messages = [*USER_MESSAGES, first.choices[0].message.model_dump(exclude_none=True), tool_result]
    second = openai_client.chat.completions.create(model=MODEL_OPENAI, messages=second_messages, tools=OPENAI_TOOLS)

    assert second.choices[0].message.content == "v-42 is late."
    assert [request["api"] for request in server.requests] == ["openai", "openai"]
    assert server.requests[1]["path"] == "/v1/chat/completions"
    assert server.requests[1]["headers"]["authorization"] == "Bearer test-key"
    assert server.requests[1]["body"]["messages"][-1] == tool_result
    assert server.requests[1]["body"]["messages"][-2]["tool_calls"][0]["id"] == "call_1"


def test_server_records_anthropic_tool_result(server, anthropic_client):
    server.push(ScriptedTurn(tool_calls=(LOOKUP_CALL,)), ScriptedTurn(text="v-42 is late."))

    first = anthropic_client.messages.create(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES, tools=ANTHROPIC_TOOLS
    )
    tool_result = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": '{"late_days": 3}'}],
    }
    second_messages = [*USER_MESSAGES, {"role": "assistant", "content": first.to_dict()["content"]}, tool_result]
    anthropic_client.messages.create(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=second_messages, tools=ANTHROPIC_TOOLS
    )

    assert server.requests[1]["api"] == "anthropic"
    assert server.requests[1]["path"] == "/v1/messages"
    assert "anthropic-version" in server.requests[1]["headers"]
    assert server.requests[1]["body"]["messages"][-1] == tool_result
    assert server.requests[1]["body"]["max_tokens"] == 256


def test_exhausted_script_returns_placeholder_text(server, openai_client, anthropic_client):
    openai_completion = openai_client.chat.completions.create(model=MODEL_OPENAI, messages=USER_MESSAGES)
    anthropic_message = anthropic_client.messages.create(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES
    )

    assert openai_completion.choices[0].message.content == EXHAUSTED_TEXT
    assert anthropic_message.content[0].text == EXHAUSTED_TEXT


def test_script_queue_is_shared_by_apis(openai_client, anthropic_client, server):
    server.push(ScriptedTurn(text="first"), ScriptedTurn(text="second"))

    anthropic_message = anthropic_client.messages.create(
        model=MODEL_ANTHROPIC, max_tokens=256, messages=USER_MESSAGES
    )
    openai_completion = openai_client.chat.completions.create(model=MODEL_OPENAI, messages=USER_MESSAGES)

    assert anthropic_message.content[0].text == "first"
    assert openai_completion.choices[0].message.content == "second"


def test_concurrent_requests_each_take_one_item(server):
    texts = [f"reply {number}" for number in range(8)]
    server.push(*(ScriptedTurn(text=text) for text in texts))
    replies: list[str] = []
    replies_lock = threading.Lock()

    def ask() -> None:
        client = openai.OpenAI(
            api_key="test-key", base_url=server.openai_base_url, max_retries=0, timeout=CLIENT_TIMEOUT
        )
        completion = client.chat.completions.create(model=MODEL_OPENAI, messages=USER_MESSAGES)
        with replies_lock:
            replies.append(completion.choices[0].message.content)

    threads = [threading.Thread(target=ask) for _ in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=CLIENT_TIMEOUT * 2)

    assert sorted(replies) == sorted(texts)
    assert len(server.requests) == len(texts)


def test_unknown_path_returns_not_found(server):
    server.push(ScriptedTurn(text="kept"))

    with httpx.Client(base_url=server.base_url, timeout=CLIENT_TIMEOUT) as http:
        response = http.post("/v1/completions", json={"prompt": "hi"})
        completion = http.post("/v1/chat/completions", json={"model": MODEL_OPENAI, "messages": USER_MESSAGES})

    assert response.status_code == 404
    assert "/v1/completions" in response.json()["error"]["message"]
    assert len(server.requests) == 1
    assert completion.json()["choices"][0]["message"]["content"] == "kept"


def test_invalid_json_body_returns_bad_request(server):
    response = httpx.post(
        server.base_url + "/v1/messages",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=CLIENT_TIMEOUT,
    )

    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "Invalid JSON request body" in response.json()["error"]["message"]
    assert server.requests == []


def test_non_object_body_returns_bad_request(server):
    response = httpx.post(server.openai_base_url + "/chat/completions", json=[1, 2], timeout=CLIENT_TIMEOUT)

    assert response.status_code == 400
    assert "not a JSON object" in response.json()["error"]["message"]
    assert server.requests == []


def test_raw_openai_stream_ends_with_done_marker(server):
    server.push(ScriptedTurn(text="hi"))
    body = {"model": MODEL_OPENAI, "messages": USER_MESSAGES, "stream": True}

    response = httpx.post(server.openai_base_url + "/chat/completions", json=body, timeout=CLIENT_TIMEOUT)

    assert response.headers["content-type"].startswith("text/event-stream")
    data_lines = [line for line in response.text.splitlines() if line.startswith("data: ")]
    assert data_lines[-1] == "data: [DONE]"
    assert json.loads(data_lines[0][len("data: ") :])["object"] == "chat.completion.chunk"


def test_openai_stream_helper_builds_tool_only_turn(server, openai_client):
    server.push(ScriptedTurn(tool_calls=(LOOKUP_CALL, MALFORMED_CALL)))

    with openai_client.chat.completions.stream(
        model=MODEL_OPENAI, messages=USER_MESSAGES, tools=OPENAI_TOOLS
    ) as stream:
        completion = stream.get_final_completion()

    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert [call.id for call in message.tool_calls] == ["call_1", "call_2"]
    assert [call.function.name for call in message.tool_calls] == ["lookup_vendor", "unknown_tool"]
    assert message.tool_calls[1].function.arguments == '{"vendor_id": '

"""The Anthropic Messages provider, streamed as raw events, with parallel tool use."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import anthropic

from lynx_core.assistant.events import TextDelta
from lynx_core.assistant.messages import Message, ModelToolCall, ModelTurn
from lynx_core.assistant.providers.base import ProviderError, describe_connection_failure

logger = logging.getLogger(__name__)


def tool_use_input(arguments: str) -> dict[str, Any]:
    """Return the ``input`` object of a tool_use block sent back to the API.

    The Messages API needs an object there. Arguments that are not a JSON object (the
    executor refused that call as invalid input) are kept as text under ``_raw_arguments``,
    so the model gets back what it sent.
    """
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        return {"_raw_arguments": arguments}
    return parsed if isinstance(parsed, dict) else {"_raw_arguments": arguments}


def to_anthropic_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Convert the neutral conversation to Messages API messages.

    Tool results of one turn go back as a single user message of tool_result blocks.
    Consecutive user texts are joined, and empty assistant texts dropped, because the API
    rejects empty text blocks.
    """
    converted: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            converted.append({
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": result.call_id, "content": result.content,
                     "is_error": result.is_error}
                    for result in message.tool_results
                ],
            })
        elif message.role == "assistant":
            blocks: list[dict[str, Any]] = []
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            for call in message.tool_calls:
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                               "input": tool_use_input(call.arguments)})
            if blocks:
                converted.append({"role": "assistant", "content": blocks})
        elif converted and converted[-1]["role"] == "user" and isinstance(converted[-1]["content"], str):
            converted[-1]["content"] += "\n\n" + message.content
        else:
            converted.append({"role": "user", "content": message.content})
    return converted


def to_anthropic_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": spec["name"], "description": spec["description"], "input_schema": spec["parameters"]}
        for spec in tools
    ]


def describe_anthropic_error(exc: anthropic.AnthropicError, timeout: float) -> str:
    """Return a one-line cause for an SDK exception; it never contains the API key."""
    if isinstance(exc, anthropic.APITimeoutError):
        return f"the request timed out (limit {timeout:g} seconds)"
    if isinstance(exc, anthropic.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.api_message or exc.message}"
    if isinstance(exc, anthropic.APIConnectionError):
        return describe_connection_failure(exc)
    return f"{type(exc).__name__}: {exc}"


class AnthropicProvider:
    """Stream Messages from Anthropic or any server with the same API at ``base_url``."""

    name = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 60,
        max_retries: int = 2,
        max_tokens: int = 2048,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    def stream(
        self, *, system: str, messages: list[Message], tools: list[dict[str, Any]]
    ) -> Iterator[TextDelta | ModelTurn]:
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": to_anthropic_messages(messages),
            "stream": True,
        }
        if tools:
            request["tools"] = to_anthropic_tools(tools)

        text_parts: list[str] = []
        # Raw events rather than `messages.stream()`: its snapshot parses tool input leniently,
        # and the executor must see the arguments exactly as the model sent them.
        calls: dict[int, ModelToolCall] = {}
        fragments: dict[int, list[str]] = {}
        try:
            with self._client.messages.create(**request) as events:
                for event in events:
                    if event.type == "content_block_start" and event.content_block.type == "tool_use":
                        block = event.content_block
                        # The API opens a tool_use block with an empty input and streams the
                        # arguments as input_json_delta; an input given here is the fallback.
                        start_input = json.dumps(block.input) if block.input else ""
                        calls[event.index] = ModelToolCall(id=block.id, name=block.name, arguments=start_input)
                        fragments[event.index] = []
                    elif event.type == "content_block_delta":
                        if event.delta.type == "text_delta" and event.delta.text:
                            text_parts.append(event.delta.text)
                            yield TextDelta(event.delta.text)
                        elif event.delta.type == "input_json_delta" and event.index in fragments:
                            fragments[event.index].append(event.delta.partial_json)
        except anthropic.AnthropicError as exc:
            cause = describe_anthropic_error(exc, self.timeout)
            logger.warning("Anthropic request failed: %s", cause, extra={"model": self.model})
            raise ProviderError(self.name, cause) from exc

        tool_calls = [
            ModelToolCall(id=call.id, name=call.name, arguments="".join(fragments[index]) or call.arguments)
            for index, call in sorted(calls.items())
        ]
        yield ModelTurn(text="".join(text_parts), tool_calls=tool_calls)

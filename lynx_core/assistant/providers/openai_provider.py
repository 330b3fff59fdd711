"""The OpenAI Chat Completions provider, streamed, with parallel tool calls."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai

from lynx_core.assistant.events import TextDelta
from lynx_core.assistant.messages import Message, ModelToolCall, ModelTurn
from lynx_core.assistant.providers.base import ProviderError, describe_connection_failure

logger = logging.getLogger(__name__)


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


def to_openai_messages(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    """Convert the neutral conversation to Chat Completions messages.

    Each tool result becomes its own "tool" message with the ``tool_call_id`` of its call.
    """
    converted: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in messages:
        if message.role == "tool":
            for result in message.tool_results:
                converted.append({"role": "tool", "tool_call_id": result.call_id, "content": result.content})
        elif message.role == "assistant" and message.tool_calls:
            converted.append({
                "role": "assistant",
                "content": message.content or None,
                "tool_calls": [
                    {"id": call.id, "type": "function",
                     "function": {"name": call.name, "arguments": call.arguments}}
                    for call in message.tool_calls
                ],
            })
        else:
            converted.append({"role": message.role, "content": message.content})
    return converted


def to_openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "function",
         "function": {"name": spec["name"], "description": spec["description"], "parameters": spec["parameters"]}}
        for spec in tools
    ]


def describe_openai_error(exc: openai.OpenAIError, timeout: float) -> str:
    """Return a one-line cause for an SDK exception; it never contains the API key."""
    if isinstance(exc, openai.APITimeoutError):
        return f"the request timed out (limit {timeout:g} seconds)"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"
    if isinstance(exc, openai.APIConnectionError):
        return describe_connection_failure(exc)
    return f"{type(exc).__name__}: {exc}"


class OpenAIProvider:
    """Stream Chat Completions from OpenAI or any server with the same API at ``base_url``."""

    name = "openai"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 60,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)

    def stream(
        self, *, system: str, messages: list[Message], tools: list[dict[str, Any]]
    ) -> Iterator[TextDelta | ModelTurn]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(system, messages),
            "stream": True,
        }
        if tools:
            request["tools"] = to_openai_tools(tools)

        text_parts: list[str] = []
        # Streamed tool calls arrive as fragments keyed by index: the first fragment of a
        # call carries its id and name, later ones only more of the arguments string.
        calls: dict[int, _PartialCall] = {}
        try:
            with self._client.chat.completions.create(**request) as chunks:
                for chunk in chunks:
                    for choice in chunk.choices:
                        if choice.index != 0:
                            continue  # Lynx requests one choice; others would be stray.
                        delta = choice.delta
                        if delta.content:
                            text_parts.append(delta.content)
                            yield TextDelta(delta.content)
                        for fragment in delta.tool_calls or []:
                            partial = calls.setdefault(fragment.index, _PartialCall())
                            if fragment.id:
                                partial.id = fragment.id
                            if fragment.function is not None:
                                if fragment.function.name:
                                    partial.name += fragment.function.name
                                if fragment.function.arguments:
                                    partial.arguments += fragment.function.arguments
        except openai.OpenAIError as exc:
            cause = describe_openai_error(exc, self.timeout)
            logger.warning("OpenAI request failed: %s", cause, extra={"model": self.model})
            raise ProviderError(self.name, cause) from exc

        tool_calls = [
            ModelToolCall(id=partial.id or f"call_{index}", name=partial.name, arguments=partial.arguments)
            for index, partial in sorted(calls.items())
        ]
        yield ModelTurn(text="".join(text_parts), tool_calls=tool_calls)

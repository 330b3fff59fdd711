"""Fixtures shared by the provider and runner tests: the scripted model server and one tool."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lynx_core.assistant.events import TextDelta
from lynx_core.assistant.messages import Message, ModelTurn
from lynx_core.assistant.providers.base import Provider
from tests.support.model_server import ScriptedModelServer

#: One tool spec, in the registry's LLM-facing form, for the provider tests.
TOOLS = [
    {
        "name": "vendor__domain__vendor__summarize",
        "tool_id": "vendor.domain.vendor.summarize",
        "description": "Summarise one vendor.",
        "parameters": {"type": "object", "properties": {"vendor_name": {"type": "string"}}},
    }
]


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as running:
        yield running


def collect(provider: Provider, messages: list[Message]) -> tuple[list[TextDelta], ModelTurn]:
    """Stream one turn, check that one ModelTurn ends it, and return its text deltas and the turn."""
    items = list(provider.stream(system="You are a test.", messages=messages, tools=TOOLS))
    assert isinstance(items[-1], ModelTurn)
    assert all(isinstance(item, TextDelta) for item in items[:-1])
    return items[:-1], items[-1]

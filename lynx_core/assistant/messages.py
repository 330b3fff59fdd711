"""The conversation in a provider-neutral form; each provider converts it to its API's format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class ChatTurn:
    """One earlier message of the chat, passed to a run as history."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ModelToolCall:
    """A tool call requested by the model.

    ``name`` is the LLM-facing tool name (dots replaced by ``__``), and ``arguments`` is the
    raw JSON text exactly as the model sent it, valid or not, so the executor judges it.
    """

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ModelTurn:
    """A complete model reply: its text and the tool calls it requested, in order."""

    text: str
    tool_calls: list[ModelToolCall] = field(default_factory=list)


@dataclass(frozen=True)
class ToolResult:
    """The result of one tool call as sent back to the model.

    ``content`` is JSON text; ``is_error`` is True when the call failed or was refused.
    """

    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class Message:
    """One message of the conversation sent to a provider.

    A "user" message carries text. An "assistant" message carries text and the tool calls
    of that turn. A "tool" message carries the results of every tool call of the
    assistant message before it, in the same order.
    """

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ModelToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()

"""Events that `AssistantRunner.run` yields to the chat page, in the order they happen.

A run yields `TextDelta` pieces as the model streams, a `ToolCallStarted` and a
`ToolCallFinished` around every tool call, `Notice` for warnings such as a fallback to
the offline assistant, and `RunFinished` last. `RunFinished.response` is the final answer;
text streamed by a model that failed mid-run is not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lynx_core.policy.executor import ToolCallResult


@dataclass(frozen=True)
class TextDelta:
    """A piece of response text, to append to the text streamed so far."""

    text: str


@dataclass(frozen=True)
class ToolCallStarted:
    """A tool call the model requested, before the executor runs it.

    ``arguments`` is the parsed JSON object, or the raw string when it is not valid JSON.
    """

    tool_id: str
    arguments: object


@dataclass(frozen=True)
class ToolCallFinished:
    """The executor's result of a tool call: succeeded, failed or refused."""

    result: ToolCallResult


@dataclass(frozen=True)
class Notice:
    """A message about the run itself rather than an answer, e.g. an LLM fallback."""

    level: Literal["info", "warning", "error"]
    text: str


@dataclass(frozen=True)
class RunFinished:
    """The last event of a run, with the status written to the audit log."""

    run_id: str
    status: Literal["completed", "failed", "blocked"]
    response: str
    provider: str
    model: str
    tool_calls: int


AssistantEvent = TextDelta | ToolCallStarted | ToolCallFinished | Notice | RunFinished

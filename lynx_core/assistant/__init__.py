"""The assistant: providers, the system prompt and the governed tool-calling loop.

`AssistantRunner.run` is the entry point; it yields the events in `events`.
"""

from lynx_core.assistant.events import (
    AssistantEvent,
    Notice,
    RunFinished,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from lynx_core.assistant.messages import ChatTurn
from lynx_core.assistant.prompt import build_system_prompt
from lynx_core.assistant.providers import OfflineProvider, Provider, ProviderError, build_provider
from lynx_core.assistant.runner import MAX_QUERY_CHARS, AssistantRunner

__all__ = [
    "MAX_QUERY_CHARS",
    "AssistantEvent",
    "AssistantRunner",
    "ChatTurn",
    "Notice",
    "OfflineProvider",
    "Provider",
    "ProviderError",
    "RunFinished",
    "TextDelta",
    "ToolCallFinished",
    "ToolCallStarted",
    "build_provider",
    "build_system_prompt",
]

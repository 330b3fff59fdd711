"""The provider interface shared by the OpenAI, Anthropic and offline providers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from lynx_core.assistant.events import TextDelta
from lynx_core.assistant.messages import Message, ModelTurn
from lynx_core.errors import LynxError

if TYPE_CHECKING:
    from lynx_core.config import Settings

#: Display names of the providers, used in error messages.
PROVIDER_LABELS = {"openai": "OpenAI", "anthropic": "Anthropic", "offline": "offline"}


class ProviderError(LynxError):
    """The model API failed: an error status, a broken or timed-out connection, a bad reply."""

    code = "llm_error"

    def __init__(self, provider: str, cause: str) -> None:
        self.provider = provider
        self.cause = cause
        label = PROVIDER_LABELS.get(provider, provider)
        super().__init__(
            f"The {label} model API failed: {cause}",
            hint="Lynx continues with the offline assistant; check the provider's status and settings.",
        )


def describe_connection_failure(exc: BaseException) -> str:
    """Return the cause of a dropped or refused connection, as both SDKs wrap it."""
    cause = exc.__cause__
    if cause is None:
        return "the connection failed or broke off"
    return f"the connection failed or broke off: {type(cause).__name__}: {cause}"


class Provider(Protocol):
    """A language model that streams one reply to a conversation with tools."""

    name: str
    model: str

    def stream(
        self, *, system: str, messages: list[Message], tools: list[dict[str, Any]]
    ) -> Iterator[TextDelta | ModelTurn]:
        """Yield text deltas as they arrive, then exactly one `ModelTurn` last.

        ``tools`` are the registry's neutral specs (name, tool_id, description, parameters).
        Raises `ProviderError` on any API failure, including one in the middle of the stream.
        """
        ...


def build_provider(settings: Settings) -> Provider:
    """Return the provider that ``settings.llm_provider`` selects."""
    choice = settings.llm_provider
    if choice == "openai" and settings.openai_api_key is not None:
        from lynx_core.assistant.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(
            api_key=settings.openai_api_key.get_secret_value(),
            model=settings.lynx_openai_model,
            base_url=str(settings.openai_base_url) if settings.openai_base_url is not None else None,
            timeout=settings.lynx_llm_timeout_seconds,
        )
    if choice == "anthropic" and settings.anthropic_api_key is not None:
        from lynx_core.assistant.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(
            api_key=settings.anthropic_api_key.get_secret_value(),
            model=settings.lynx_anthropic_model,
            timeout=settings.lynx_llm_timeout_seconds,
        )
    from lynx_core.assistant.providers.offline import OfflineProvider

    return OfflineProvider()

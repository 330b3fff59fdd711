"""Language model providers: OpenAI, Anthropic and the offline rules, behind one interface."""

from lynx_core.assistant.providers.base import Provider, ProviderError, build_provider
from lynx_core.assistant.providers.offline import OfflineProvider

__all__ = ["OfflineProvider", "Provider", "ProviderError", "build_provider"]

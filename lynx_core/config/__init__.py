"""Settings from environment variables and ``.streamlit/secrets.toml``."""

from lynx_core.config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]

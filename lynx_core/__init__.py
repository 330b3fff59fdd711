"""Lynx: a governed, multi-tenant assistant for an ERP-like platform.

The package is layered; imports point downwards only::

    assistant   LLM providers and the tool-calling loop
    policy      authentication, tenant guard, role/scope checks, risk gate, approvals
    tools       registry and the domain / cluster / cell tools
    kernel      Kernel client: embedded Kernel and HTTP Kernel
    audit       append-only audit log with a per-tenant hash chain
    store       Lynx's own state: sessions, drafts, approval requests
    config      settings from environment variables and .streamlit/secrets.toml
"""

__version__ = "0.1.0"

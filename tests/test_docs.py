"""Every tool, audit event type, refusal rule and setting is documented where users look."""

from __future__ import annotations

import re
from pathlib import Path

from lynx_core.audit.events import EVENT_TYPES
from lynx_core.config.settings import SETTING_FIXES
from lynx_core.policy.decision import RULES
from lynx_core.tools.catalog import build_registry

ROOT = Path(__file__).resolve().parents[1]


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_every_tool_is_in_tools_doc() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", read("docs/tools.md"), flags=re.M))
    registered = {tool.id for tool in build_registry()}
    assert registered - documented == set()
    assert documented - registered == set()


def test_audit_doc_lists_events_and_rules() -> None:
    text = read("docs/audit.md")
    assert [name for name in EVENT_TYPES if f"| `{name}` |" not in text] == []
    assert [name for name in RULES if f"| `{name}` |" not in text] == []


def test_every_rule_used_in_code_is_known() -> None:
    used: set[str] = set()
    for path in (ROOT / "lynx_core").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'Decision\.deny\(\s*"([a-z_]+)"', source))
        used |= set(re.findall(r'_refuse\([^"\n]*"([a-z_]+)"', source))
    assert used - set(RULES) == set()


def test_every_setting_is_in_readme() -> None:
    text = read("README.md")
    assert [name for name in SETTING_FIXES if f"`{name}`" not in text] == []

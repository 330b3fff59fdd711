"""The tool registry: every action Lynx can take, with its layer, risk and permissions.

A tool that is not registered here cannot be called. Tool ids follow
``<domain>.<layer>.<object>.<verb>``. The layer fixes the risk (domain → low, cluster →
medium, cell → high), so a tool cannot claim a lower risk than its layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel

from lynx_core.errors import ToolNotFoundError

if TYPE_CHECKING:
    from lynx_core.tools.context import ToolContext


class Layer(StrEnum):
    DOMAIN = "domain"
    CLUSTER = "cluster"
    CELL = "cell"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


RISK_OF_LAYER = {Layer.DOMAIN: Risk.LOW, Layer.CLUSTER: Risk.MEDIUM, Layer.CELL: Risk.HIGH}

TOOL_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.(domain|cluster|cell)\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class RecordRef:
    """Marks an input field as naming a Kernel record, so the tenant guard checks its owner.

    Use as ``vendor_id: Annotated[str, RecordRef("vendor")]``; lists of ids work too.
    """

    kind: str


Handler = Callable[["ToolContext", Any], BaseModel | dict[str, Any]]


def _record_kind(metadata: Iterable[Any]) -> str | None:
    for meta in metadata:
        if isinstance(meta, RecordRef):
            return meta.kind
    return None


def _record_kind_in(annotation: Any) -> str | None:
    """Find a `RecordRef` inside ``list[...]``, ``tuple[...]`` or ``X | None`` at any depth."""
    kind = _record_kind(getattr(annotation, "__metadata__", ()))
    if kind:
        return kind
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        kind = _record_kind_in(arg)
        if kind:
            return kind
    return None


@dataclass(frozen=True)
class Tool:
    """A registered tool."""

    id: str
    title: str
    description: str
    layer: Layer
    domain: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    handler: Handler
    #: The caller needs at least one of these roles (empty: any user of the tenant).
    required_roles: frozenset[str] = frozenset()
    #: The caller needs every one of these scopes.
    required_scopes: frozenset[str] = frozenset()
    #: For cell tools: the approval policy domain in the Kernel ("payments", "portals", ...).
    approval_domain: str | None = None
    #: For cluster tools: the cell tool that executes the draft this tool creates.
    executes_with: str | None = None
    examples: tuple[str, ...] = field(default_factory=tuple)

    @property
    def risk(self) -> Risk:
        return RISK_OF_LAYER[self.layer]

    def input_schema(self) -> dict[str, Any]:
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def record_fields(self) -> dict[str, str]:
        """Return {input field name: record kind} for fields marked with `RecordRef`."""
        found: dict[str, str] = {}
        for name, info in self.input_model.model_fields.items():
            kind = _record_kind(info.metadata) or _record_kind_in(info.annotation)
            if kind:
                found[name] = kind
        return found


class ToolRegistry:
    """The set of tools Lynx may call, keyed by id."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        match = TOOL_ID_PATTERN.match(tool.id)
        if match is None:
            raise ValueError(f"Tool id {tool.id!r} must follow <domain>.<layer>.<object>.<verb>.")
        if match.group(1) != tool.layer.value:
            raise ValueError(f"Tool id {tool.id!r} names layer {match.group(1)} but the tool is {tool.layer}.")
        if tool.layer is Layer.CELL and not tool.approval_domain:
            raise ValueError(f"Cell tool {tool.id!r} needs an approval_domain.")
        if tool.id in self._tools:
            raise ValueError(f"Tool {tool.id!r} is already registered.")
        self._tools[tool.id] = tool

    def get(self, tool_id: str) -> Tool:
        try:
            return self._tools[tool_id]
        except KeyError:
            raise ToolNotFoundError(tool_id) from None

    def __contains__(self, tool_id: object) -> bool:
        return tool_id in self._tools

    def __iter__(self):
        return iter(sorted(self._tools.values(), key=lambda tool: tool.id))

    def __len__(self) -> int:
        return len(self._tools)

    def llm_name(self, tool_id: str) -> str:
        """Return the tool name sent to LLM APIs, which allow only ``[a-zA-Z0-9_-]``."""
        return tool_id.replace(".", "__")

    def resolve_llm_name(self, name: str) -> str:
        """Map a name from an LLM back to a tool id (unknown names pass through unchanged)."""
        return name.replace("__", ".")

    def tool_specs(self) -> list[dict[str, Any]]:
        """Return a neutral description of every tool for the LLM providers."""
        return [
            {
                "name": self.llm_name(tool.id),
                "tool_id": tool.id,
                "description": f"[{tool.layer} layer, {tool.risk} risk] {tool.description}",
                "parameters": tool.input_schema(),
            }
            for tool in self
        ]

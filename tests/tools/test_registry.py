"""The registry's tenant-guard metadata covers every input field that names a Kernel record."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from lynx_core.tools.catalog import build_registry
from lynx_core.tools.registry import Layer, RecordRef, Tool


class Shapes(BaseModel):
    plain: Annotated[str, RecordRef("vendor")]
    optional: Annotated[str | None, RecordRef("workflow")] = None
    optional_list: list[Annotated[str, RecordRef("document")]] | None = None
    unmarked: str = ""


def test_record_refs_found_in_optional_and_list_fields() -> None:
    tool = Tool(id="test.domain.shapes.read", title="t", description="d", layer=Layer.DOMAIN, domain="test",
                input_model=Shapes, output_model=Shapes, handler=lambda ctx, data: data)
    assert tool.record_fields() == {"plain": "vendor", "optional": "workflow", "optional_list": "document"}


#: Id fields that name no Kernel record (a tool id is Lynx's own name for a tool).
NOT_KERNEL_RECORDS = {"tool_id"}


def test_every_id_field_of_shipped_tools_is_guarded() -> None:
    unguarded = []
    for tool in build_registry():
        guarded = tool.record_fields()
        for name in tool.input_model.model_fields:
            names_record = name.endswith("_id") or name.endswith("_ids")
            if names_record and name not in guarded and name not in NOT_KERNEL_RECORDS:
                unguarded.append(f"{tool.id}.{name}")
    assert unguarded == []

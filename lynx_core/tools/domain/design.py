"""Domain tool for the tenant's brand: design tokens and brand rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, limit_field
from lynx_core.tools.registry import Layer, Tool


class TokenView(BaseModel):
    name: str
    category: str
    value: str
    description: str


class BrandRuleView(BaseModel):
    rule_id: str
    rule: str
    severity: str = Field(description="must: a hard rule; should: a recommendation.")


class BrandInput(ToolInput):
    category: Literal["color", "typography", "spacing", "radius"] | None = Field(
        default=None, description="Only design tokens of this category."
    )
    limit: int = limit_field("design tokens and brand rules (each)")


class BrandOutput(BaseModel):
    tenant_id: str
    token_count: int
    tokens_shown: int
    tokens: list[TokenView] = Field(description="Design tokens sorted by name.")
    rule_count: int
    rules_shown: int
    rules: list[BrandRuleView] = Field(description="Brand rules in the tenant's order.")


def read_brand(ctx: ToolContext, data: BrandInput) -> BrandOutput:
    tenant_id = ctx.actor.tenant_id
    tokens = [
        t for t in ctx.kernel.list_design_tokens(tenant_id) if data.category is None or t.category == data.category
    ]
    rules = ctx.kernel.list_brand_rules(tenant_id)
    shown_tokens = tokens[: data.limit]
    shown_rules = rules[: data.limit]
    return BrandOutput(
        tenant_id=tenant_id,
        token_count=len(tokens),
        tokens_shown=len(shown_tokens),
        tokens=[
            TokenView(name=t.name, category=t.category, value=t.value, description=t.description)
            for t in shown_tokens
        ],
        rule_count=len(rules),
        rules_shown=len(shown_rules),
        rules=[BrandRuleView(rule_id=r.id, rule=r.rule, severity=r.severity) for r in shown_rules],
    )


TOOLS = [
    Tool(
        id="design.domain.brand.read",
        title="Brand tokens and rules",
        description=(
            "Read the tenant's design tokens (colours, typography, spacing, corner radius), "
            "optionally of one category, and its brand rules marked must or should. Use it before "
            "drafting portal pages or design changes."
        ),
        layer=Layer.DOMAIN,
        domain="design",
        input_model=BrandInput,
        output_model=BrandOutput,
        handler=read_brand,
        required_scopes=frozenset({"design:read"}),
        examples=(
            "What are our brand colours?",
            "Which brand rules must a new page follow?",
        ),
    ),
]

"""Cluster tool that drafts design token changes as a proposal, checked against the brand rules.

No cell tool writes design tokens, so the draft is a proposal a person applies in the Kernel.
The brand-rule checks cover what can be read from a rule's text: a contrast ratio such as
"4.5:1", a pixel limit such as "more than 4px", a value the rule names in brackets, and any
other rule that names a changed token.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.errors import KernelValidationError
from lynx_core.kernel.models import BrandRule, DesignToken
from lynx_core.tools.context import ToolContext
from lynx_core.tools.drafting import Change, DraftOutput, DraftPreview, save_draft
from lynx_core.tools.registry import Layer, Tool

TOOL_ID = "design.cluster.token_change.draft"

MAX_CHANGES = 50
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
LENGTH = re.compile(r"^(\d+(?:\.\d+)?)(px|rem)$")
FONT_FAMILY = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,100}$")
CONTRAST_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*:\s*1")
PIXEL_LIMIT = re.compile(r"more than (\d+(?:\.\d+)?)px")
#: Pixels per rem, the browsers' default root font size, for comparing rem values with px limits.
PX_PER_REM = 16.0


class TokenChange(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="Token name, e.g. color.brand.primary.")
    value: str = Field(min_length=1, max_length=100, description="New value, e.g. #0B3D91, 16px or Inter.")


class TokenChangeDraftInput(BaseModel):
    changes: list[TokenChange] = Field(min_length=1, max_length=MAX_CHANGES)
    rationale: str | None = Field(default=None, max_length=1000, description="Why the tokens should change.")


class TokenChangeLine(BaseModel):
    name: str
    category: Literal["color", "typography", "spacing", "radius"]
    before: str
    after: str


class TokenChangeProposal(BaseModel):
    """The stored proposal: each token's current and proposed value."""

    changes: list[TokenChangeLine]
    rationale: str | None


def _normalise(token: DesignToken, value: str) -> str:
    """Return the value in the token's usual form, or raise when it does not fit the token."""
    value = value.strip()
    name = token.name
    if token.category == "color":
        if not HEX_COLOUR.match(value):
            raise KernelValidationError(
                f"Invalid value {value!r} for colour token {name}: colours are hex codes.",
                hint="Use #RRGGBB, e.g. #0B3D91.",
            )
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(digit * 2 for digit in digits)
        return f"#{digits.upper()}"
    if name.startswith("font.weight"):
        if not value.isdigit() or not 100 <= int(value) <= 900 or int(value) % 100:
            raise KernelValidationError(
                f"Invalid value {value!r} for {name}: font weights are 100, 200 … 900.", hint="Use e.g. 600."
            )
        return value
    if name.startswith("font.family"):
        if not FONT_FAMILY.match(value):
            raise KernelValidationError(
                f"Invalid value {value!r} for {name}: a font family name has letters, digits, spaces, "
                "commas, quotes and hyphens only.",
                hint="Use a family name such as Inter.",
            )
        return value
    if not LENGTH.match(value):
        raise KernelValidationError(
            f"Invalid value {value!r} for {name}: sizes, spacing and radii are lengths in px or rem.",
            hint=f"Use a value such as {token.value}.",
        )
    return value


def _pixels(value: str) -> float | None:
    match = LENGTH.match(value)
    if match is None:
        return None
    number = float(match.group(1))
    return number * PX_PER_REM if match.group(2) == "rem" else number


def _luminance(hex_colour: str) -> float:
    """Return the WCAG 2.x relative luminance of a #RRGGBB colour."""
    channels = []
    for index in (1, 3, 5):
        c = int(hex_colour[index:index + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """Return the WCAG contrast ratio of two #RRGGBB colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _mentions(rule: BrandRule, token_name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(token_name)}(?![\w.]*\w)", rule.rule) is not None


def _contrast_findings(rules: list[BrandRule], values: dict[str, str], changed: set[str]) -> tuple[list[str], list[str]]:
    """Check text colours against surface colours for every rule that states a contrast ratio."""
    warnings, checks = [], []
    texts = [name for name in values if name.startswith("color.text.")]
    surfaces = [name for name in values if name.startswith("color.surface.")]
    for rule in rules:
        match = CONTRAST_RATIO.search(rule.rule)
        if "contrast" not in rule.rule.lower() or match is None:
            continue
        minimum = float(match.group(1))
        pairs = [(text, surface) for text in texts for surface in surfaces if {text, surface} & changed]
        failing = [
            f"{text} on {surface} is {contrast_ratio(values[text], values[surface]):.2f}:1"
            for text, surface in pairs
            if contrast_ratio(values[text], values[surface]) < minimum
        ]
        if failing:
            warnings.append(f"Breaks the {rule.severity} rule '{rule.rule}': {'; '.join(failing)}.")
        elif pairs:
            checks.append(f"Text on surface colours keeps a contrast of at least {match.group(1)}:1")
    return warnings, checks


def _rule_findings(rules: list[BrandRule], tokens: dict[str, DesignToken], proposed: dict[str, str]) -> list[str]:
    """Find rules that name a changed token: pixel limits, named values, and the rest as reminders."""
    warnings = []
    for rule in rules:
        if CONTRAST_RATIO.search(rule.rule) and "contrast" in rule.rule.lower():
            continue
        for name, value in proposed.items():
            if not _mentions(rule, name):
                continue
            limit = PIXEL_LIMIT.search(rule.rule)
            pixels = _pixels(value)
            old_value = tokens[name].value
            if limit is not None and pixels is not None and pixels > float(limit.group(1)):
                warnings.append(f"Breaks the {rule.severity} rule '{rule.rule}': {name} would be {value}.")
            elif old_value.casefold() in rule.rule.casefold():
                warnings.append(
                    f"The {rule.severity} rule '{rule.rule}' names the current value {old_value} of {name}; "
                    "the rule would need updating too."
                )
            else:
                warnings.append(f"Check the {rule.severity} rule '{rule.rule}', which mentions {name}.")
    return warnings


def draft_token_change(ctx: ToolContext, data: TokenChangeDraftInput) -> DraftOutput:
    """Validate the token changes, check them against the brand rules and save a proposal."""
    tenant_id = ctx.actor.tenant_id
    tokens = {token.name: token for token in ctx.kernel.list_design_tokens(tenant_id)}
    names = [change.name.strip() for change in data.changes]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise KernelValidationError(
            f"Token {', '.join(repeated)} is listed more than once.", hint="Give each token one new value."
        )
    unknown = [name for name in names if name not in tokens]
    if unknown:
        suggestions = {name: difflib.get_close_matches(name, list(tokens), n=2) for name in unknown}
        described = "; ".join(
            f"{name} (did you mean {' or '.join(close)}?)" if close else name for name, close in suggestions.items()
        )
        raise KernelValidationError(
            f"Unknown design token {described}.",
            hint=f"Use one of the tenant's tokens: {', '.join(sorted(tokens))}.",
        )

    proposed: dict[str, str] = {}
    for name, change in zip(names, data.changes, strict=True):
        value = _normalise(tokens[name], change.value)
        if value == tokens[name].value:
            raise KernelValidationError(
                f"Token {name} already has the value {value}.", hint="Leave it out, or give a different value."
            )
        proposed[name] = value

    rules = ctx.kernel.list_brand_rules(tenant_id)
    values = {name: token.value for name, token in tokens.items() if token.category == "color"}
    values.update({name: value for name, value in proposed.items() if tokens[name].category == "color"})
    contrast_warnings, contrast_checks = _contrast_findings(rules, values, set(proposed))
    warnings = contrast_warnings + _rule_findings(rules, tokens, proposed)

    lines = [
        TokenChangeLine(name=name, category=tokens[name].category, before=tokens[name].value, after=value)
        for name, value in proposed.items()
    ]
    payload = TokenChangeProposal(changes=lines, rationale=data.rationale.strip() if data.rationale else None)
    preview = DraftPreview(
        summary=(
            f"Proposal to change {len(lines)} design token{'s' if len(lines) != 1 else ''}: "
            + "; ".join(f"{line.name} {line.before} → {line.after}" for line in lines) + "."
        ),
        changes=[Change(target=f"Token {line.name}", before=line.before, after=line.after) for line in lines],
        checks=["Every token exists in the tenant's design system",
                "Every value has the form its token needs (hex colour, length, weight or font name)",
                *contrast_checks],
        warnings=warnings,
    )
    return save_draft(
        ctx, tool_id=TOOL_ID, kind="design_tokens", title=f"Design token change ({len(lines)} tokens)",
        payload=payload, preview=preview, executes_with=None,
    )


TOOLS: list[Tool] = [
    Tool(
        id=TOOL_ID,
        title="Propose design token changes",
        description=(
            "Draft new values for design tokens (colours, fonts, sizes, spacing, radii). Each token "
            "must exist, colours must be hex codes, and the preview warns where a change breaks or "
            "touches a brand rule, such as text contrast. Creates a proposal only: Lynx has no tool "
            "that changes tokens, so a person applies it in the Kernel's administration."
        ),
        layer=Layer.CLUSTER,
        domain="design",
        input_model=TokenChangeDraftInput,
        output_model=DraftOutput,
        handler=draft_token_change,
        required_scopes=frozenset({"design:draft"}),
        executes_with=None,
        examples=(
            "Change color.brand.primary to #123E7C",
            "Propose rounder corners: radius.md 8px",
        ),
    ),
]

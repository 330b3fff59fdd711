"""Helpers shared by the cluster tools: vendor lookup and number formatting."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lynx_core.errors import KernelValidationError
from lynx_core.kernel.models import Vendor
from lynx_core.tools.context import ToolContext

PayloadT = TypeVar("PayloadT", bound=BaseModel)

#: How many candidate vendors an ambiguous-name error lists before "and N more".
MAX_LISTED_CANDIDATES = 8


def fold(text: str) -> str:
    """Return the form names are compared in: case-folded, with single spaces."""
    return " ".join(text.split()).casefold()



def hours(value: float) -> str:
    """Format a number of hours without a trailing ".0", e.g. "12.5 h" or "48 h"."""
    return f"{value:g} h"


def resolve_vendor(ctx: ToolContext, vendor_id: str | None, vendor_name: str | None) -> Vendor:
    """Return the caller's vendor named by id or by name.

    With both given, the id decides and the name must match that vendor. A name that matches
    several vendors raises an error listing them, so the person can pick one by id.
    """
    tenant_id = ctx.actor.tenant_id
    if vendor_id:
        vendor = ctx.kernel.get_vendor(tenant_id, vendor_id)
        if vendor_name and fold(vendor_name) != fold(vendor.name):
            raise KernelValidationError(
                f"Vendor id {vendor_id} is {vendor.name}, not {vendor_name!r}.",
                hint="Pass only the vendor id or only the vendor name, or make them name the same vendor.",
            )
        return vendor

    name = (vendor_name or "").strip()
    if not name:
        raise KernelValidationError("No vendor was given.", hint="Pass vendor_id or vendor_name.")
    candidates = ctx.kernel.find_vendor_by_name(tenant_id, name)
    if not candidates:
        raise KernelValidationError(
            f"No vendor named {name!r} exists in your tenant.",
            hint="Check the spelling, or list your tenant's vendors to find the right one.",
        )
    if len(candidates) > 1:
        listed = "; ".join(f"{v.name} ({v.id}, {v.status})" for v in candidates[:MAX_LISTED_CANDIDATES])
        more = len(candidates) - MAX_LISTED_CANDIDATES
        if more > 0:
            listed += f"; and {more} more"
        raise KernelValidationError(
            f"The name {name!r} matches {len(candidates)} vendors: {listed}.",
            hint="Pass the vendor_id of the vendor you mean, or its full name.",
        )
    return candidates[0]


def build_payload(model: type[PayloadT], **values: Any) -> PayloadT:
    """Build a cell tool's input, raising `KernelValidationError` when a value does not fit it.

    The executor reports a pydantic error raised inside a handler as an invalid output, so a
    payload the cell tool would reject is turned into a validation message here.
    """
    try:
        return model(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}" for error in exc.errors()
        )
        raise KernelValidationError(
            f"The draft does not fit the input of the tool that would carry it out: {problems}.",
            hint="Correct the listed values and draft again.",
        ) from None

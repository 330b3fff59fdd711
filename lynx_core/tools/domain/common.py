"""Helpers shared by the read-only domain tools: strict inputs, list limits, totals and dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lynx_core.kernel.models import Payment
from lynx_core.tools.context import ToolContext

DEFAULT_LIMIT = 25
MAX_LIMIT = 200
ZERO = Decimal("0.00")


class ToolInput(BaseModel):
    """Base of domain tool inputs: an unknown field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def limit_field(items: str = "rows", default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Any:
    """Return the pydantic field for a list limit of 1 to ``maximum``."""
    return Field(
        default=default, ge=1, le=maximum,
        description=f"Maximum number of {items} to return (1 to {maximum}); totals count them all.",
    )


def total(amounts: Iterable[Decimal]) -> Decimal:
    """Return the sum of the amounts, 0.00 for none."""
    return sum(amounts, ZERO)



def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def live_payments(ctx: ToolContext, **filters: Any) -> list[Payment]:
    """List the caller's tenant's payments that are not deleted, with the Kernel's filters."""
    payments = ctx.kernel.list_payments(ctx.actor.tenant_id, **filters)
    return [payment for payment in payments if payment.deleted_at is None]


def vendor_names(ctx: ToolContext) -> dict[str, str]:
    """Return {vendor id: name} for the caller's tenant, read from the Kernel once."""
    return {vendor.id: vendor.name for vendor in ctx.kernel.list_vendors(ctx.actor.tenant_id)}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return e.g. ``1 payment`` or ``3 payments``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"

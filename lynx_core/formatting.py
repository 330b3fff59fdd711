"""Text formats shared by tool previews, assistant replies and pages: money and sentences."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def sentence(text: str) -> str:
    """Return the text with a full stop added unless it already ends a sentence."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def money(amount: Decimal | str | int | None, currency: str | None = "") -> str:
    """Format an amount for a sentence, e.g. ``12,345.60 EUR``.

    Amounts arrive as Decimal from the Kernel and as strings from stored JSON. A value
    that is not a number is returned as it is, so a page shows a bad row instead of failing.
    """
    if amount is None:
        return "-"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return f"{amount} {currency or ''}".strip()
    return f"{value:,.2f} {currency or ''}".strip()

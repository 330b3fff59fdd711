"""Money and sentence formatting shared by tools, assistant replies and pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lynx_core.formatting import money, sentence


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (Decimal("12345.6"), "EUR", "12,345.60 EUR"),
    ("15000.00", "GBP", "15,000.00 GBP"),
    (7, "EUR", "7.00 EUR"),
    (Decimal("40403.93"), "", "40,403.93"),
    (Decimal("1.5"), None, "1.50"),
    (None, "EUR", "-"),
    ("not a number", "EUR", "not a number EUR"),
])
def test_money_formats_amounts(amount, currency, expected) -> None:
    assert money(amount, currency) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Invoice amount disputed", "Invoice amount disputed."),
    ("Paid by card already.", "Paid by card already."),
    ("Is this a duplicate?", "Is this a duplicate?"),
    ("  Wrong vendor  ", "Wrong vendor."),
    ("", ""),
])
def test_sentence_ends_with_a_stop(text, expected) -> None:
    assert sentence(text) == expected

"""The offline assistant: fixed rules that map questions to tools, with no language model.

Lynx uses it when no model API key is configured, and for the rest of a run when the model
API fails. It speaks the same protocol as a model provider:

* Round 1 (the last message is the user's): regular expressions map the question to one
  or more tool calls, issued in parallel. A question that no rule maps gets a plain
  answer with example questions and no tool call.
* Round 2: a call that only looked a record up by name (a vendor or a workflow) is
  followed by the call that needs its id, e.g. a leaner version of a workflow.
* Last round: the answer is composed from the tool results as markdown.

The output depends only on the messages and the tools offered: no randomness, no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lynx_core.assistant.events import TextDelta
from lynx_core.assistant.messages import Message, ModelToolCall, ModelTurn
from lynx_core.formatting import money

INTRO_NO_MODEL = (
    "No language model is configured, so the offline assistant mapped your question to "
    "Lynx's tools and summarised their results."
)
INTRO_MODEL_FAILED = (
    "The language model failed, so the offline assistant mapped your question to Lynx's "
    "tools and summarised their results."
)
UNMAPPED_NO_MODEL = (
    "No language model is configured, and the offline assistant could not map your question "
    "to one of Lynx's tools."
)
UNMAPPED_MODEL_FAILED = (
    "The language model failed, and the offline assistant could not map your question to one "
    "of Lynx's tools."
)

EXAMPLE_QUESTIONS = (
    "Which payments have no VPM record?",
    "How healthy are our finances?",
    "Which payments are overdue?",
    "Run an audit risk scan for duplicate payments.",
    "Tell me about vendor Helios Steel Works.",
    "Which documents are missing?",
    "Which workflows have slow or redundant steps?",
    "Who has to approve a payment?",
    "How is our tenant set up?",
    "What are our design tokens and brand rules?",
    "What can I do?",
    "Who are the users of our tenant and their roles?",
    "What did I ask Lynx recently?",
    "Which portals do we have?",
    "Draft a payment of 1,250.00 EUR to Helios Steel Works for invoice INV-2291.",
    "Request the missing documents from Helios Steel Works.",
    "Draft a leaner version of the Spot buy workflow.",
    "Scaffold a customer portal called Returns Hub for returns and refunds.",
)

#: Rows shown per table; the tool's totals still count every row.
MAX_TABLE_ROWS = 10
MAX_TABLE_COLUMNS = 8
MAX_CELL_CHARS = 160
#: Fields left out of the reply because every tool returns them and they add nothing for the user.
HIDDEN_FIELDS = frozenset({"tenant_id"})
#: Words written in capitals in labels.
ACRONYMS = {"vpm": "VPM", "sla": "SLA", "po": "PO", "grn": "GRN", "id": "id", "p95": "p95"}

TOOL_TITLES = {
    "vpm.domain.unrecorded_payments.list": "Payments without a VPM record",
    "finance.domain.health.summarize": "Finance health",
    "finance.domain.overdue_payments.list": "Overdue payments",
    "vpm.domain.vendor_payments.summarize": "Payments to the vendor",
    "audit.domain.risk.scan": "Audit risk scan",
    "vendor.domain.vendors.search": "Vendors",
    "vendor.domain.vendor.summarize": "Vendor summary",
    "docs.domain.document_status.list": "Missing documents",
    "workflow.domain.inefficiency.scan": "Slow and redundant workflow steps",
    "workflow.domain.workflow.read": "Workflow",
    "workflow.domain.approval_policies.read": "Approval policies",
    "tenant.domain.profile.read": "Tenant profile and customisations",
    "design.domain.brand.read": "Design tokens and brand rules",
    "iam.domain.permissions.explain": "Your permissions",
    "iam.domain.users.list": "Users and roles",
    "lynx.domain.runs.recent": "Your recent Lynx runs",
    "portal.domain.portals.list": "Portals",
    "vpm.cluster.payment.draft": "Payment draft",
    "docs.cluster.document_request.draft": "Document request draft",
    "docs.cluster.document_requests.batch_draft": "Document requests draft",
    "workflow.cluster.workflow_proposal.draft": "Leaner workflow proposal",
    "portal.cluster.portal.scaffold": "Portal draft",
    "vpm.cell.payment.record": "Record a payment",
}


# --- Reading values out of the question ---------------------------------------------------------

# A proper name: capitalised words, optionally joined by "&", "and", "of" and similar.
_NAME = r"[A-Z0-9][\w'’.&/-]*(?:(?:\s+(?:&|and|of|the|de|van|von|der|du|la|le)){0,2}\s+[A-Z0-9][\w'’.&/-]*)*"
_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD"}
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_AMOUNT_PATTERNS = (
    re.compile(rf"(?P<amount>{_NUMBER})\s*(?P<currency>[A-Z]{{3}}\b|[€£$])"),
    re.compile(rf"(?P<currency>\b[A-Z]{{3}}|[€£$])\s*(?P<amount>{_NUMBER})\b"),
    re.compile(rf"\b(?:of|for|amount)\s+(?P<amount>{_NUMBER})\b(?!\s*(?:days|hours|%))"),
)
_INVOICE = re.compile(
    r"\binvoice\s+(?:ref(?:erence)?\s+|number\s+|no\.?\s+|#\s*)?(?P<ref>[A-Za-z0-9][\w/-]*\d[\w/-]*)"
    r"|\b(?P<bare>INV[-_/]?\w*\d\w*)",
    re.IGNORECASE,
)
_WORKFLOW_ID = re.compile(r"\bwf_[0-9a-f]{6,}\b")
_VENDOR_ID = re.compile(r"\bven_[0-9a-f]{6,}\b")
_STOP_WORDS = re.compile(r"\s+(?:and|for|with|to|from|in|on|please|now|so|because|that)\b.*$", re.IGNORECASE)


def clean_name(text: str) -> str:
    """Strip quotes, trailing punctuation and a leading "the" from a name found in a question."""
    name = text.strip().strip("\"'“”‘’`")
    name = re.sub(r"[\s.,;:!?]+$", "", name)
    name = re.sub(r"^(?:the|our|a)\s+", "", name, flags=re.IGNORECASE)
    return name.strip().strip("\"'“”‘’`")


def parse_amount(text: str) -> tuple[str | None, str | None]:
    """Return (amount with two decimals, ISO currency code or None) found in ``text``."""
    for pattern in _AMOUNT_PATTERNS:
        for match in pattern.finditer(text):
            raw = match.group("amount").replace(",", "")
            try:
                amount = Decimal(raw).quantize(Decimal("0.01"))
            except InvalidOperation:
                continue
            currency = match.groupdict().get("currency")
            if currency:
                currency = _CURRENCY_SYMBOLS.get(currency, currency)
                if currency in ("INV", "REF", "PO"):
                    continue
            return f"{amount:.2f}", currency
    return None, None


def parse_invoice(text: str) -> str | None:
    match = _INVOICE.search(text)
    if match is None:
        return None
    return (match.group("ref") or match.group("bare")).rstrip(".,;:")


def name_after(keywords: str, text: str, *, lowercase_ok: bool = False) -> str | None:
    """Return the name that follows one of ``keywords`` (a regex alternation) in ``text``.

    Quoted names win, then capitalised names. With ``lowercase_ok`` the rest of the clause
    is taken when the name is not capitalised.
    """
    quoted = re.search(rf"(?i:{keywords})\s+[\"“'‘](?P<name>[^\"”'’]+)[\"”'’]", text)
    if quoted:
        return clean_name(quoted.group("name"))
    proper = re.search(rf"(?i:{keywords})\s+(?:(?i:the|our)\s+)?(?P<name>{_NAME})", text)
    if proper:
        return clean_name(proper.group("name"))
    if lowercase_ok:
        loose = re.search(rf"(?i:{keywords})\s+(?P<name>[^?!.,;]+)", text)
        if loose:
            name = clean_name(_STOP_WORDS.sub("", loose.group("name")))
            return name or None
    return None


# --- Mapping a question to tool calls ------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    """A second call that takes an id from the first call's output.

    ``id_path`` is the path of keys to the id in the first call's data, and ``argument``
    the input field of the second tool that receives it.
    """

    tool_id: str
    id_path: tuple[str, ...]
    argument: str


@dataclass(frozen=True)
class PlannedCall:
    tool_id: str
    arguments: dict[str, Any] = field(default_factory=dict)
    follow_up: FollowUp | None = None


def _sentences(text: str) -> list[str]:
    """Split a question into sentences at ., ? or ! followed by a space or the end."""
    parts = re.split(r"(?<=[.?!])\s+|\n+", text.strip())
    return [part for part in parts if part.strip()]


def _payment_arguments(sentence: str, vendor_words: str) -> dict[str, Any]:
    """Return the vendor, amount, currency and invoice named in a payment sentence, as tool arguments.

    ``vendor_words`` is the regex of words after which the vendor's name follows.
    """
    arguments: dict[str, Any] = {}
    vendor = _VENDOR_ID.search(sentence)
    if vendor:
        arguments["vendor_id"] = vendor.group(0)
    else:
        name = name_after(vendor_words, sentence)
        if name:
            arguments["vendor_name"] = name
    amount, currency = parse_amount(sentence)
    if amount:
        arguments["amount"] = amount
    if currency:
        arguments["currency"] = currency
    invoice = parse_invoice(sentence)
    if invoice:
        arguments["invoice_ref"] = invoice
    return arguments


def _plan_action(sentence: str) -> list[PlannedCall]:
    """Map a sentence that requests a change (a draft or a live change) to calls."""
    lowered = sentence.lower()

    wants_draft = re.search(r"\b(draft|prepare|propose|suggest|set up|create|build|scaffold|make)\b", lowered)
    if re.search(r"\bpayments?\b", lowered) and wants_draft and not re.search(r"\bnow\b|\bimmediately\b", lowered):
        return [PlannedCall("vpm.cluster.payment.draft", _payment_arguments(sentence, r"to|for vendor|vendor"))]

    live_payment = re.search(
        r"\b(record|pay|execute|make|send|book|process|release)\b.*\b(payments?|it|them)\b.*"
        r"\b(now|immediately|right away|straight away|today|without approval)\b"
        r"|\bpay\b.*\b(now|immediately|right away)\b",
        lowered,
    )
    if live_payment:
        return [PlannedCall("vpm.cell.payment.record", _payment_arguments(sentence, r"to|vendor"))]

    if re.search(r"\b(request|chase|ask)\w*\b.*\b(documents?|docs|paperwork|pos?|grns?|invoices|notes)\b", lowered):
        if re.search(r"\b(all|every|each)\b.*\bvendors\b|\bvendors with\b|\bbatch\b", lowered):
            return [PlannedCall("docs.cluster.document_requests.batch_draft", {})]
        vendor = _VENDOR_ID.search(sentence)
        if vendor:
            return [PlannedCall("docs.cluster.document_request.draft", {"vendor_id": vendor.group(0)})]
        name = name_after(r"from|vendor|ask", sentence, lowercase_ok=True)
        if name:
            return [PlannedCall("docs.cluster.document_request.draft", {"vendor_name": name})]

    if re.search(r"\bworkflow\b", lowered) and re.search(
        r"\b(lean\w*|simplif\w*|streamlin\w*|improv\w*|redesign\w*|faster|optimi[sz]\w*|"
        r"remove the (?:duplicate|redundant) steps)\b",
        lowered,
    ):
        workflow_id = _WORKFLOW_ID.search(sentence)
        if workflow_id:
            return [PlannedCall("workflow.cluster.workflow_proposal.draft", {"workflow_id": workflow_id.group(0)})]
        name = None
        before = re.search(r"\b(?:of|for|to)\s+(?:the\s+|our\s+)?(?P<name>[^?!.,;]+?)\s+workflow\b", sentence, re.I)
        if before and not re.search(r"\bversion\b", before.group("name"), re.I):
            name = clean_name(before.group("name"))
        if not name:
            name = name_after(r"workflow", sentence, lowercase_ok=True)
        if name:
            return [PlannedCall(
                "workflow.domain.workflow.read", {"workflow_name": name},
                follow_up=FollowUp("workflow.cluster.workflow_proposal.draft", ("workflow", "workflow_id"),
                                   "workflow_id"),
            )]

    portal = re.search(r"\b(customer|vendor|supplier)s?\s+portal\b", lowered)
    if portal and wants_draft:
        audience = "customer" if portal.group(1) == "customer" else "vendor"
        name = name_after(r"called|named", sentence)
        purpose_match = re.search(r"\b(?:for|where|to|so that)\s+(?P<purpose>[^?!.]+)$", sentence)
        purpose = purpose_match.group("purpose").strip() if purpose_match else ""
        if not name:
            name = f"{audience.capitalize()} portal"
        if not purpose:
            purpose = f"A {audience} portal named {name}."
        return [PlannedCall("portal.cluster.portal.scaffold", {"name": name, "audience": audience, "purpose": purpose})]
    return []


def _plan_vendor(text: str) -> list[PlannedCall]:
    """Map a question about one named vendor to a summary, or to its payments."""
    vendor_id = _VENDOR_ID.search(text)
    name = None if vendor_id else (
        name_after(r"vendor|supplier", text)
        or name_after(r"about|summari[sz]e|profile of|paid|pay|payments to", text)
    )
    if vendor_id is None and not name:
        return []
    wants_payments = re.search(r"\b(paid|payments? to|pay)\b", text, re.I)
    key = {"vendor_id": vendor_id.group(0)} if vendor_id else {"vendor_name": name}
    if wants_payments and vendor_id:
        return [PlannedCall("vpm.domain.vendor_payments.summarize", dict(key))]
    if wants_payments:
        return [PlannedCall(
            "vendor.domain.vendor.summarize", key,
            follow_up=FollowUp("vpm.domain.vendor_payments.summarize", ("vendor", "vendor_id"), "vendor_id"),
        )]
    return [PlannedCall("vendor.domain.vendor.summarize", key)]


def _plan_reads(text: str) -> list[PlannedCall]:
    """Map the questions about data in ``text`` to read-only (domain) tool calls."""
    lowered = text.lower()
    calls: list[PlannedCall] = []

    def wants(pattern: str) -> bool:
        return re.search(pattern, lowered) is not None

    if wants(r"\bvpm\b|without (?:a |any )?(?:vpm )?records?|no (?:vpm )?records?|unrecorded|not recorded"):
        calls.append(PlannedCall("vpm.domain.unrecorded_payments.list"))
    if wants(r"financ\w* health|health (?:check|summary)|healthy|financial (?:discipline|position|overview)"
             r"|how (?:are|is) (?:our|the) financ"):
        calls.append(PlannedCall("finance.domain.health.summarize"))
    if wants(r"overdue|past due|late payments?|payments? (?:are |that are )?late"):
        calls.append(PlannedCall("finance.domain.overdue_payments.list"))
    if wants(r"\baudit\b(?!\s+(?:log|trail))|risk scan|scan for risks?|duplicate (?:payments?|invoices?)"
             r"|duplicated payments?|duplicates\b(?!.*\bsteps?\b)|double[- ]pa(?:id|yments?)|paid twice|anomal"):
        calls.append(PlannedCall("audit.domain.risk.scan"))

    search = re.search(r"\b(?:search|find|look ?up|list|show|which)\b[^.?!]*\b(?:vendors|suppliers)\b", lowered)
    if search and not wants(r"\bvendors with (?:the most )?(?:missing|overdue)|owe us"):
        arguments: dict[str, Any] = {}
        for status in ("active", "inactive", "blocked"):
            if wants(rf"\b{status}\b"):
                arguments["status"] = status
        for rating in ("low", "medium", "high"):
            if wants(rf"\b{rating}[- ]risk\b"):
                arguments["risk_rating"] = rating
        called = re.search(r"(?:called|named|matching)\s+[\"'“]?(?P<query>[^\"'”?.!,]+)", text, re.I)
        if called:
            arguments["query"] = clean_name(called.group("query"))
        calls.append(PlannedCall("vendor.domain.vendors.search", arguments))
    elif not wants(r"\bvendors\b"):
        calls.extend(_plan_vendor(text))

    if wants(r"missing (?:\w+ ){0,2}(?:documents?|docs|paperwork|pos?\b|grns?|goods received|invoices)"
             r"|documents? (?:status|(?:are |is )?missing)|which (?:\w+ )?documents"
             r"|(?:pos?|grns?|invoices) (?:are )?missing|owe us (?:the most )?documents|paperwork"):
        calls.append(PlannedCall("docs.domain.document_status.list"))

    if wants(r"\bslow\b|redundant|bottleneck|inefficien|duplicate(?:d)? steps?|repeat\w* (?:steps?|checks?)"
             r"|(?:save|saving) (?:hours|time)|take too long"):
        kind = "any"
        if wants(r"\bslow\b|bottleneck|too long") and not wants(r"redundant|duplicate|repeat"):
            kind = "slow"
        elif wants(r"redundant|duplicate|repeat") and not wants(r"\bslow\b|bottleneck|too long"):
            kind = "redundant"
        calls.append(PlannedCall("workflow.domain.inefficiency.scan", {"kind": kind}))
    else:
        steps = re.search(r"steps of (?:the\s+)?(?P<name>[^?!.,;]+?)\s+workflow\b", text, re.I)
        name = clean_name(steps.group("name")) if steps else None
        if not name and wants(r"\b(show|read|describe|explain|open)\b[^.?!]*\bworkflow\b"):
            name = name_after(r"workflow", text, lowercase_ok=True)
        workflow_id = _WORKFLOW_ID.search(text)
        if workflow_id:
            calls.append(PlannedCall("workflow.domain.workflow.read", {"workflow_id": workflow_id.group(0)}))
        elif name:
            calls.append(PlannedCall("workflow.domain.workflow.read", {"workflow_name": name}))

    if wants(r"approval polic|who (?:can|may|must|needs? to|has to|should) approve|approval rules|approvers?\b"
             r"|second approver|approval (?:threshold|limit|expir)|decide on an approval"):
        calls.append(PlannedCall("workflow.domain.approval_policies.read"))
    if wants(r"customi[sz]ation|(?:tenant|company|organi[sz]ation)(?:'s)? (?:profile|settings|configuration)"
             r"|(?:tenant|we|company) (?:is |are )?(?:set up|configured)|currency do we|required documents"
             r"|every purchase need"):
        calls.append(PlannedCall("tenant.domain.profile.read"))
    if wants(r"design tokens?|\bbrand\b|colou?rs?\b|typograph|\bfonts?\b|style guide"):
        calls.append(PlannedCall("design.domain.brand.read"))
    if wants(r"what can i do|what am i allowed|my (?:permissions|roles?|scopes|access)|am i allowed"
             r"|why can'?t i|\bcan i\b"):
        calls.append(PlannedCall("iam.domain.permissions.explain"))
    if wants(r"\busers\b|team members|(?<!my )\broles\b|\bpeople\b|who works"):
        calls.append(PlannedCall("iam.domain.users.list"))
    if wants(r"recent runs|lynx runs|(?:last|previous|past|recent) (?:runs|questions|requests)|run history"
             r"|what did i ask|ask(?:ed)? lynx|audit (?:log|trail)"):
        calls.append(PlannedCall("lynx.domain.runs.recent"))
    if wants(r"\bportals?\b"):
        calls.append(PlannedCall("portal.domain.portals.list"))
    return calls


def plan_calls(question: str) -> list[PlannedCall]:
    """Map a question to the tool calls that answer it, in a fixed order, without duplicates.

    A sentence that requests a change is used for that change only; the remaining
    sentences are matched against the read-only rules together.
    """
    planned: list[PlannedCall] = []
    reading: list[str] = []
    for sentence in _sentences(question):
        actions = _plan_action(sentence)
        if actions:
            planned.extend(actions)
        else:
            reading.append(sentence)
    if reading:
        planned.extend(_plan_reads(" ".join(reading)))

    unique: list[PlannedCall] = []
    seen: set[str] = set()
    for call in planned:
        key = call.tool_id + json.dumps(call.arguments, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(call)
    return unique


def fit_arguments(arguments: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Drop arguments the tool's schema does not define, when the schema forbids extra fields."""
    schema = spec.get("parameters") or {}
    properties = schema.get("properties")
    if schema.get("additionalProperties") is False and isinstance(properties, dict):
        return {key: value for key, value in arguments.items() if key in properties}
    return dict(arguments)


# --- Composing the reply -------------------------------------------------------------------------


def _label(key: str) -> str:
    """Turn a field name into a label, e.g. ``without_vpm_count`` into "Without VPM count"."""
    if key.isupper():
        return key
    if key.endswith("_untrusted"):
        return _label(key.removesuffix("_untrusted")) + " (text entered by people; data, not instructions)"
    words = [ACRONYMS.get(word, word) for word in key.split("_")]
    first = words[0] if words[0] in ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def _is_money_key(key: str) -> bool:
    return "amount" in key or "threshold" in key


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def _format_value(key: str, value: Any, currency: str | None) -> str:
    """Format one value; amounts get thousands separators and the currency."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and _is_money_key(key):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return _cell_text(value)
        return money(amount, currency)
    if isinstance(value, list) and all(_is_scalar(item) for item in value):
        return _cell_text(", ".join(str(item) for item in value)) if value else "–"
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return _cell_text("; ".join(f"{k}: {v}" for k, v in value.items())) if value else "–"
    return _cell_text(value)


def render_table(rows: list[dict[str, Any]], currency: str | None) -> list[str]:
    """Render the first rows of a list of records as a markdown table."""
    shown = rows[:MAX_TABLE_ROWS]
    columns: list[str] = []
    for row in shown:
        for key in row:
            if key not in columns and key not in HIDDEN_FIELDS:
                columns.append(key)
    # Leave out columns with no value in any shown row, and the currency when amounts show it.
    columns = [key for key in columns if any(row.get(key) not in (None, "", [], {}) for row in shown)]
    row_currency = "currency" in columns and any(_is_money_key(key) for key in columns)
    if row_currency:
        columns.remove("currency")
    columns = columns[:MAX_TABLE_COLUMNS]

    lines = ["| " + " | ".join(_label(key) for key in columns) + " |",
             "|" + "|".join(" --- " for _ in columns) + "|"]
    for row in shown:
        cells = [
            _format_value(key, row.get(key), row.get("currency") if row_currency else currency)
            for key in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > len(shown):
        # A blank line ends the table, so the note is not read as one more row.
        lines += ["", f"_This table shows {len(shown)} of the {len(rows)} rows the tool returned; "
                      f"the tool card has all {len(rows)}._"]
    return lines


def render_data(data: dict[str, Any], currency: str | None = None, depth: int = 0) -> list[str]:
    """Render a tool's output: figures first, then sentences, then records as tables."""
    currency = data.get("currency") if isinstance(data.get("currency"), str) else currency
    hidden = set(HIDDEN_FIELDS)
    # The sentence above the figures already states how a lookup matched.
    if data.get("match") in ("id", "name"):
        hidden |= {"match", "candidate_count", "candidates"}
    elif data.get("match") in ("ambiguous", "not_found"):
        hidden |= {"match", "candidate_count"}
    figures: list[str] = []
    sentences: list[str] = []
    records: list[str] = []
    for key, value in data.items():
        if key in hidden or value in (None, "", [], {}):
            continue
        if _is_scalar(value):
            if key == "currency" and any(_is_money_key(other) for other in data):
                continue
            figures.append(f"- {_label(key)}: {_format_value(key, value, currency)}")
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            if any(len(item) > 60 for item in value):
                sentences += [f"**{_label(key)}**", ""]
                sentences += [f"- {' '.join(item.split())}" for item in value]
                sentences.append("")
            else:
                figures.append(f"- {_label(key)}: {', '.join(value)}")
        elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
            records += [f"**{_label(key)}**", "", *render_table(value, currency), ""]
        elif isinstance(value, dict) and all(_is_scalar(item) for item in value.values()):
            parts = [f"{_label(k)}: {_format_value(k, v, currency)}" for k, v in value.items()
                     if k not in HIDDEN_FIELDS and v is not None and not (k == "currency" and currency)]
            figures.append(f"- {_label(key)}: " + "; ".join(parts))
        elif isinstance(value, dict) and depth < 2:
            records += [f"**{_label(key)}**", "", *render_data(value, currency, depth + 1), ""]
        else:
            figures.append(f"- {_label(key)}: {_format_value(key, value, currency)}")
    return figures + ([""] if figures else []) + sentences + records


def render_lookup(tool_id: str, payload: dict[str, Any], follow_up: FollowUp) -> list[str]:
    """Render a call that only looked up a record by name for the call after it, in one line."""
    data = payload.get("data") if payload.get("status") == "succeeded" else None
    record = _dig(data, follow_up.id_path[:-1]) if isinstance(data, dict) else None
    if not isinstance(record, dict):
        return []
    name = record.get("name") or record.get("vendor_name") or record.get("title") or ""
    record_id = record.get(follow_up.id_path[-1])
    return [f"Found {name} (`{record_id}`) with `{tool_id}`.", ""]


def render_draft(data: dict[str, Any]) -> list[str]:
    """Render a cluster tool's draft: what it is, what would change, and the next step."""
    preview = data.get("preview") or {}
    currency = preview.get("currency")
    lines = [
        f"I prepared a draft: **{_cell_text(data.get('title'))}** (draft id `{data.get('draft_id')}`, "
        f"status {data.get('status')}). Nothing has changed in the Kernel yet.",
        "",
    ]
    if preview.get("summary"):
        lines += [str(preview["summary"]), ""]
    details = {key: preview[key] for key in ("amount", "vendor_id") if preview.get(key)}
    for key, value in details.items():
        lines.append(f"- {_label(key)}: {_format_value(key, value, currency)}")
    if details:
        lines.append("")
    if preview.get("changes"):
        lines += ["**What would change**", ""]
        lines += render_table(preview["changes"], currency)
        lines.append("")
    for key, title in (("checks", "Checks that passed"), ("warnings", "Warnings")):
        if preview.get(key):
            lines += [f"**{title}**", ""]
            lines.extend(f"- {item}" for item in preview[key])
            lines.append("")
    if data.get("executes_with"):
        lines += [f"After approval, `{data['executes_with']}` carries it out.", ""]
    lines.append(f"**Next step:** {data.get('next_step') or 'Use Request approval to send the draft to a manager.'}")
    return lines


def render_result(tool_id: str, arguments: str, payload: dict[str, Any]) -> list[str]:
    """Render one tool call's result as a markdown section."""
    title = TOOL_TITLES.get(tool_id, tool_id)
    status = payload.get("status")
    if status == "refused":
        lines = [
            f"### {title}: refused",
            "",
            f"Lynx's executor refused `{tool_id}` under the rule `{payload.get('rule')}`.",
            "",
            f"- Reason: {payload.get('reason')}",
        ]
        if payload.get("needed"):
            lines.append(f"- What is needed: {payload['needed']}")
        if payload.get("alternative"):
            lines.append(f"- Alternative: {payload['alternative']}")
        return lines
    if status != "succeeded":
        return [f"### {title}: failed", "", f"`{tool_id}` failed: {payload.get('error')}"]

    data = payload.get("data") or {}
    lines = [f"### {title}", ""]
    if isinstance(data, dict) and data.get("draft_id"):
        return lines + render_draft(data)
    if isinstance(data, dict) and data.get("match") in ("ambiguous", "not_found"):
        asked = shown_arguments(arguments)
        if data["match"] == "ambiguous":
            lines.append(f"Several records match {asked}. Name one of these by its id:")
        else:
            lines.append(f"No record of your tenant matches {asked}. Check the spelling, or search with part of the name.")
        lines.append("")
    if isinstance(data, dict):
        return lines + render_data(data)
    return lines + [f"- {_cell_text(data)}"]


def shown_arguments(arguments: str) -> str:
    try:
        parsed = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return repr(arguments)
    if isinstance(parsed, dict):
        return ", ".join(f"{key} {value!r}" for key, value in parsed.items()) or "the request"
    return repr(parsed)


def closing_lines(results: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Return the closing advice that depends on what the calls returned."""
    statuses = [payload.get("status") for _, payload in results]
    lines: list[str] = []
    if any(payload.get("rule") == "approval_required" for _, payload in results):
        lines.append(
            "No message, note or tool output can approve a live change. Ask me to draft it, then use "
            "\"Request approval\" so a manager can approve it."
        )
    if statuses and all(status == "succeeded" for status in statuses):
        lines.append("All figures above come from Lynx's tools; the offline assistant adds none of its own.")
    return lines


# --- The provider --------------------------------------------------------------------------------


def _tool_id_of(spec: dict[str, Any]) -> str:
    return str(spec.get("tool_id") or str(spec["name"]).replace("__", "."))


def _parse_result(content: str) -> dict[str, Any]:
    """Return the ``tool_result`` object the runner sent, or an error payload if unreadable."""
    try:
        parsed = json.loads(content)
    except json.JSONDecodeError:
        return {"status": "failed", "error": "the tool result was not valid JSON"}
    if isinstance(parsed, dict) and isinstance(parsed.get("tool_result"), dict):
        return parsed["tool_result"]
    return {"status": "failed", "error": "the tool result had an unexpected form"}


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class OfflineProvider:
    """A rule-based stand-in for a language model; deterministic and without network access."""

    name = "offline"
    model = "rules-v1"

    def __init__(self, *, after_failure: bool = False) -> None:
        #: True when Lynx fell back to this provider because the model API failed.
        self.after_failure = after_failure

    def stream(
        self, *, system: str, messages: list[Message], tools: list[dict[str, Any]]
    ) -> Iterator[TextDelta | ModelTurn]:
        del system  # The rules do not read the prompt; tool results carry the tenant's data.
        specs = {_tool_id_of(spec): spec for spec in tools}
        question, rounds = self._split(messages)
        planned = [call for call in plan_calls(question) if call.tool_id in specs]

        if not rounds:
            if not planned:
                yield from self._say(self._unmapped_answer())
                return
            yield ModelTurn(text="", tool_calls=self._calls(planned, specs, round_number=1))
            return

        if len(rounds) == 1:
            follow_ups = self._follow_ups(planned, rounds[0], specs)
            if follow_ups:
                yield ModelTurn(text="", tool_calls=self._calls(follow_ups, specs, round_number=2))
                return
        yield from self._say(self._answer(planned, rounds, specs))

    # Conversation state.

    @staticmethod
    def _split(messages: list[Message]) -> tuple[str, list[list[tuple[ModelToolCall, str]]]]:
        """Return the last user question and, per round after it, its calls with their results."""
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
        question = messages[last_user].content if last_user >= 0 else ""
        rounds: list[list[tuple[ModelToolCall, str]]] = []
        for message in messages[last_user + 1:]:
            if message.role == "assistant" and message.tool_calls:
                rounds.append([(call, "") for call in message.tool_calls])
            elif message.role == "tool" and rounds:
                contents = {result.call_id: result.content for result in message.tool_results}
                rounds[-1] = [(call, contents.get(call.id, "")) for call, _ in rounds[-1]]
        return question, rounds

    @staticmethod
    def _calls(
        planned: list[PlannedCall], specs: dict[str, dict[str, Any]], *, round_number: int
    ) -> list[ModelToolCall]:
        return [
            ModelToolCall(
                id=f"offline_{round_number}_{index}",
                name=str(specs[call.tool_id]["name"]),
                arguments=json.dumps(fit_arguments(call.arguments, specs[call.tool_id]), sort_keys=True),
            )
            for index, call in enumerate(planned, start=1)
        ]

    @staticmethod
    def _follow_ups(
        planned: list[PlannedCall], first_round: list[tuple[ModelToolCall, str]], specs: dict[str, dict[str, Any]]
    ) -> list[PlannedCall]:
        """Return the second calls for first calls that found the one record they looked up."""
        follow_ups = []
        for call, (_, content) in zip(planned, first_round):
            if call.follow_up is None or call.follow_up.tool_id not in specs:
                continue
            payload = _parse_result(content)
            if payload.get("status") != "succeeded":
                continue
            record_id = _dig(payload.get("data"), call.follow_up.id_path)
            if isinstance(record_id, str) and record_id:
                follow_ups.append(PlannedCall(call.follow_up.tool_id, {call.follow_up.argument: record_id}))
        return follow_ups

    # Answers.

    def _intro(self) -> str:
        return INTRO_MODEL_FAILED if self.after_failure else INTRO_NO_MODEL

    def _unmapped_answer(self) -> str:
        lines = [
            UNMAPPED_MODEL_FAILED if self.after_failure else UNMAPPED_NO_MODEL,
            "",
            "It can answer questions like these:",
            "",
            *[f"- {example}" for example in EXAMPLE_QUESTIONS],
        ]
        return "\n".join(lines)

    def _answer(
        self,
        planned: list[PlannedCall],
        rounds: list[list[tuple[ModelToolCall, str]]],
        specs: dict[str, dict[str, Any]],
    ) -> str:
        names = {str(spec["name"]): tool_id for tool_id, spec in specs.items()}
        results: list[tuple[str, dict[str, Any]]] = []
        lines = [self._intro(), ""]
        for round_index, calls in enumerate(rounds):
            for call_index, (call, content) in enumerate(calls):
                tool_id = names.get(call.name, call.name.replace("__", "."))
                payload = _parse_result(content)
                results.append((tool_id, payload))
                plan = planned[call_index] if round_index == 0 and call_index < len(planned) else None
                lookup = (
                    render_lookup(tool_id, payload, plan.follow_up)
                    if plan is not None and plan.follow_up is not None and len(rounds) > 1
                    else []
                )
                lines.extend(lookup or [*render_result(tool_id, call.arguments, payload), ""])
        lines.extend(closing_lines(results))
        text = "\n".join(lines).strip()
        return re.sub(r"\n{3,}", "\n\n", text) + "\n"

    @staticmethod
    def _say(text: str) -> Iterator[TextDelta | ModelTurn]:
        """Stream ``text`` line by line, then the turn with the whole text."""
        for line in text.splitlines(keepends=True):
            yield TextDelta(line)
        yield ModelTurn(text=text, tool_calls=[])

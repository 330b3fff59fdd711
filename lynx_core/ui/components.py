"""Presentation helpers shared by the Streamlit pages: the session gate and the tool-call card.

Streamlit lists every script in ``pages/`` as a page, so these helpers live here instead.
They render what services return and hold no business rules.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from lynx_core.actor import Actor
from lynx_core.errors import SessionExpiredError
from lynx_core.services import Services, get_services

TOKEN_KEY = "lynx_session_token"
NOTICE_KEY = "lynx_sign_in_notice"

PAGES = (
    ("pages/1_Ask_Lynx.py", "Ask Lynx", ":material/forum:"),
    ("pages/2_Approvals.py", "Approvals", ":material/task_alt:"),
    ("pages/3_Audit_log.py", "Audit log", ":material/receipt_long:"),
)

LAYER_BADGES = {
    "domain": ("ADVICE", "blue", "Read-only: nothing was changed."),
    "cluster": ("DRAFT", "orange", "A draft: nothing changes in the Kernel until a manager approves it."),
    "cell": ("EXECUTION", "red", "A live change in the Kernel."),
}


def services() -> Services:
    return get_services()


def current_actor() -> Actor | None:
    """Return the signed-in actor, or None (and a notice) when the session is missing or expired."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        return services().sessions.resolve(token)
    except SessionExpiredError as exc:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[NOTICE_KEY] = str(exc)
        return None


def require_actor() -> Actor:
    """Return the signed-in actor, or stop the page with a pointer to the sign-in page.

    Every page except sign-in calls this first; it also draws the identity and sign-out
    button in the sidebar.
    """
    actor = current_actor()
    if actor is None:
        st.warning(st.session_state.get(NOTICE_KEY) or "Please sign in to use Lynx.")
        st.page_link("app.py", label="Go to sign-in", icon=":material/login:")
        st.stop()
    with st.sidebar:
        # Streamlit's own page list is hidden (client.showSidebarNavigation) so that signed-out
        # visitors see no pages and the start page is not listed under its file name.
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
        tenant = services().kernel.get_tenant(actor.tenant_id)
        st.markdown(f"**{actor.display_name}**  \n{tenant.name}  \n`{', '.join(sorted(actor.roles))}`")
        if st.button("Sign out", key="sign_out"):
            sign_out()
            st.switch_page("app.py")
    return actor


def sign_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        services().sessions.sign_out(token)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[NOTICE_KEY] = "You signed out."


def _json_block(label: str, value: Any) -> None:
    st.caption(label)
    st.code(json.dumps(value, indent=2, default=str, ensure_ascii=False), language="json")


def render_tool_card(result: Any) -> None:
    """Render one tool call as an expandable card: id, layer and risk, input, output, latency, audit id."""
    label, colour, meaning = LAYER_BADGES.get(result.layer or "", ("UNKNOWN", "gray", "Not a registered tool."))
    # Material icons ship with Streamlit, so they render even where no emoji font is installed.
    status_icon = {"succeeded": ":material/check_circle:", "failed": ":material/warning:",
                   "refused": ":material/block:"}.get(result.status, "•")
    title = f"{status_icon} :{colour}-badge[{label}] `{result.tool_id}` · {result.layer or '-'} layer · {result.risk or '-'} risk · {result.status}"
    with st.expander(title, expanded=result.status != "succeeded"):
        st.caption(meaning)
        cols = st.columns(3)
        cols[0].markdown(f"**Latency** {result.latency_ms:.0f} ms")
        cols[1].markdown(f"**Audit event** `{result.audit_event_id}`")
        cols[2].markdown(f"**Call** `{result.call_id}`")
        if result.refusal is not None:
            st.error(
                f"**Refused by rule `{result.refusal.rule}`.** {result.refusal.reason}\n\n"
                + (f"**Needed:** {result.refusal.needed}\n\n" if result.refusal.needed else "")
                + (f"**Instead:** {result.refusal.alternative}" if result.refusal.alternative else "")
            )
        elif result.error:
            st.warning(result.error)
        _json_block("Input", result.input)
        if result.output is not None:
            _json_block("Output", result.output)

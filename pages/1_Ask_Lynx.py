"""Ask Lynx: streamed answers, one card per tool call, drafts with "Request approval"."""

from __future__ import annotations

import streamlit as st

from lynx_core.assistant.events import Notice, RunFinished, TextDelta, ToolCallFinished, ToolCallStarted
from lynx_core.assistant.messages import ChatTurn
from lynx_core.assistant import MAX_QUERY_CHARS
from lynx_core.assistant.runner import AssistantRunner
from lynx_core.policy.approvals import describe_result
from lynx_core.ui.components import render_tool_card, require_actor, services

HISTORY_KEY = "chat_history"

actor = require_actor()
svc = services()
history: list[dict] = st.session_state.setdefault(HISTORY_KEY, [])

st.title("Ask Lynx")
provider = svc.settings.llm_provider
if provider == "offline":
    st.caption("No language model is configured: the offline assistant maps common questions to tools. "
               "Set OPENAI_API_KEY or ANTHROPIC_API_KEY to use a model.")
else:
    st.caption(f"Lynx uses the {provider} language model and the tools it calls on your tenant's data; "
               "when the model fails, the offline assistant answers instead.")


def conversation_excerpt(index: int) -> str:
    """Return the question and answer that produced the draft at history entry ``index``."""
    lines = [f"{entry['role']}: {entry['content'][:1500]}" for entry in history[max(0, index - 1): index + 1]]
    return "\n\n".join(lines)


def approval_summary(request) -> str:
    """Return e.g. "1 of 2 approvals recorded; waiting for 1 more approval, by a financial_controller."."""
    progress = svc.approvals.progress(request)
    return f"{progress.summary()}; waiting for {progress.waiting_for()}."


def render_draft_status(result, index: int) -> None:
    """Show a draft's approval state, and the "Request approval" button while it is a draft."""
    output = result.output or {}
    draft_id = output.get("draft_id")
    if not draft_id:
        return
    draft = svc.drafts.get_draft(actor.tenant_id, draft_id)
    if draft is None:
        return
    requests = svc.drafts.list_requests(actor.tenant_id, draft_id=draft_id)
    latest = requests[0] if requests else None
    if latest is None:
        st.markdown(f":orange-badge[DRAFT] **{draft.title}** — status `{draft.status}`")
    else:
        st.markdown(f":orange-badge[DRAFT] **{draft.title}** — approval request `{latest.request_id}` is **{latest.status}**")
        if latest.status == "executed":
            st.success(f"Approved and carried out. {describe_result(latest.result)}")
        elif latest.status == "pending" and latest.required_approvals > 1:
            st.info(approval_summary(latest))
        elif latest.status in ("failed", "rejected", "expired", "cancelled"):
            st.warning(" ".join(part for part in (latest.error, latest.next_step) if part)
                       or f"The request was {latest.status}.")
    if not draft.execute_tool_id:
        st.caption("This is a proposal for a person to apply by hand; there is nothing to approve in Lynx.")
        return
    mine = draft.created_by == actor.user_id
    left, right, _ = st.columns([1, 1, 3])
    if mine and draft.status == "draft":
        if left.button("Request approval", key=f"request_approval_{draft_id}_{index}", type="primary"):
            outcome = svc.approvals.submit(actor, draft_id, conversation_excerpt=conversation_excerpt(index),
                                           run_id=draft.run_id)
            (st.error if outcome.refused else st.success)(outcome.message)
            st.rerun()
    cancellable = draft.status == "draft" or (latest is not None and latest.status in ("pending", "approved", "failed"))
    if mine and cancellable and right.button("Cancel", key=f"cancel_draft_{draft_id}_{index}"):
        outcome = svc.approvals.cancel_draft(actor, draft_id, "cancelled by the requester in the chat")
        (st.error if outcome.refused else st.success)(outcome.message)
        st.rerun()


def render_assistant_entry(entry: dict, index: int) -> None:
    for level, text in entry.get("notices", []):
        {"error": st.error, "warning": st.warning}.get(level, st.info)(text)
    st.markdown(entry["content"])
    for result in entry.get("tools", []):
        render_tool_card(result)
        render_draft_status(result, index)
    if entry.get("run_id"):
        st.caption(f"Run `{entry['run_id']}` · {entry.get('status')} · {entry.get('provider')}")


for index, entry in enumerate(history):
    with st.chat_message(entry["role"]):
        if entry["role"] == "user":
            st.markdown(entry["content"])
        else:
            render_assistant_entry(entry, index)

query = st.chat_input("Ask about payments, vendors, documents, workflows, portals or your brand…")
if query is not None and not query.strip():
    st.warning("The question is empty. Type a question, e.g. *Which payments have no VPM record?*")
    query = None
elif query is not None and len(query) > MAX_QUERY_CHARS:
    st.error(f"The question has {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,}. "
             "Shorten it or split it into several questions.")
    with st.expander("Your question (copy it to shorten it)"):
        st.code(query, language=None, wrap_lines=True)
    query = None
if query:
    previous = [ChatTurn(role=e["role"], content=e["content"]) for e in history]
    history.append({"role": "user", "content": query})
    with st.chat_message("user"):
        st.markdown(query)

    entry: dict = {"role": "assistant", "content": "", "tools": [], "notices": []}
    with st.chat_message("assistant"):
        notices = st.container()
        text_area = st.empty()
        working = st.empty()
        cards = st.container()
        for event in AssistantRunner(svc).run(actor, query, previous):
            if isinstance(event, TextDelta):
                entry["content"] += event.text
                text_area.markdown(entry["content"] + " ▌")
            elif isinstance(event, ToolCallStarted):
                working.caption(f"Calling `{event.tool_id}`…")
            elif isinstance(event, ToolCallFinished):
                working.empty()
                entry["tools"].append(event.result)
                with cards:
                    render_tool_card(event.result)
            elif isinstance(event, Notice):
                entry["notices"].append((event.level, event.text))
                with notices:
                    {"error": st.error, "warning": st.warning}.get(event.level, st.info)(event.text)
            elif isinstance(event, RunFinished):
                entry.update(run_id=event.run_id, status=event.status, provider=event.provider)
                if not entry["content"]:
                    entry["content"] = event.response
        text_area.markdown(entry["content"])
    history.append(entry)
    st.rerun()

with st.sidebar:
    st.subheader("My approval requests")
    mine = svc.drafts.list_requests(actor.tenant_id, requested_by=actor.user_id, limit=10)
    if not mine:
        st.caption("None yet. Ask Lynx to draft something, then use Request approval.")
    for request in mine:
        mine_draft = svc.drafts.get_draft(actor.tenant_id, request.draft_id)
        st.markdown(f"**{request.status}** · {mine_draft.title if mine_draft else request.tool_id}  \n`{request.request_id}`")
        if request.status == "executed":
            st.caption(describe_result(request.result))
        elif request.status == "pending" and request.required_approvals > 1:
            st.caption(approval_summary(request))
        elif request.status in ("rejected", "failed", "expired"):
            st.caption(" ".join(part for part in (request.error, request.next_step) if part))
    if mine and st.button("Refresh status", key="refresh_requests"):
        st.rerun()
    if history and st.button("Clear conversation", key="clear_chat"):
        st.session_state[HISTORY_KEY] = []
        st.rerun()

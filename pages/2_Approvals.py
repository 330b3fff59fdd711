"""Approvals: the managers' queue with full context, approve / reject in a dialog, history."""

from __future__ import annotations

import re
from decimal import Decimal

import streamlit as st

from lynx_core.formatting import money
from lynx_core.policy.approval_views import QueueFilters, build_queue
from lynx_core.ui.components import require_actor, services

actor = require_actor()
svc = services()
is_approver = svc.approvals.is_approver(actor)

st.title("Approvals")
if is_approver:
    st.caption("Requests from your tenant that need a decision. The last required approval carries the change "
               "out in the Kernel at once.")
else:
    st.caption("You do not hold an approver role, so you can follow the requests you may read here but not "
               "decide them.")

flash = st.session_state.pop("approval_flash", None)
if flash:
    (st.error if flash[0] == "error" else st.success)(flash[1])


@st.dialog("Confirm decision")
def confirm(request_id: str, decision: str, summary: str, waits_after: str = "",
            warnings: tuple[str, ...] = (), seen_round: int | None = None) -> None:
    """Ask for confirmation. ``waits_after`` describes what the request still needs after this approval."""
    st.markdown(summary)
    for warning in warnings:
        st.warning(warning)
    reason = ""
    if decision == "reject":
        reason = st.text_area("Reason (required; the requester sees it)", key=f"reason_{request_id}")
        label = "Reject"
    elif waits_after:
        st.info(f"Your approval is recorded, and the request then waits for {waits_after}. "
                "Nothing changes in the Kernel until the last required approval.")
        label = "Approve"
    else:
        st.warning("Your approval is the last one required: it carries the change out in the Kernel immediately.")
        label = "Approve and execute"
    if st.button(label, type="primary", key=f"confirm_{decision}_{request_id}"):
        if decision == "reject" and not reason.strip():
            st.error("Enter the reason for the rejection; the requester reads it.")
            return
        if decision == "approve":
            outcome = svc.approvals.approve(actor, request_id, seen_round=seen_round)
        else:
            outcome = svc.approvals.reject(actor, request_id, reason)
        st.session_state["approval_flash"] = ("error" if outcome.refused or outcome.status == "failed" else "ok",
                                              outcome.message)
        st.rerun()


def plain_excerpt(text: str) -> str:
    """Return the excerpt without markdown heading marks and bold stars, for display as plain text."""
    return re.sub(r"^#{1,6}[ \t]+", "", text, flags=re.M).replace("**", "")


def waits_after(request, *, retry: bool = False) -> str:
    """Return what the request would still wait for after the signed-in approver approves it."""
    after = svc.approvals.progress_after_approval(actor, request, retry=retry)
    return "" if after.complete else after.waiting_for()


def minute(timestamp: str | None) -> str:
    """Return an ISO timestamp to the minute, e.g. "2026-12-04 22:31", or "" for none."""
    return timestamp[:16].replace("T", " ") if timestamp else ""


users = {u.id: u.display_name for u in svc.kernel.list_users(actor.tenant_id)}
cell_tools = [tool.id for tool in svc.registry if tool.layer.value == "cell"]
with st.container(border=True):
    cols = st.columns(5)
    tool_choice = cols[0].selectbox("Type", ["(all)"] + cell_tools, key="queue_type")
    requester = cols[1].selectbox("Requester", ["(all)"] + list(users), format_func=lambda v: users.get(v, v),
                                  key="queue_requester")
    min_amount = cols[2].number_input("Min amount", min_value=0.0, value=0.0, step=100.0, key="queue_min")
    max_amount = cols[3].number_input("Max amount (0 = any)", min_value=0.0, value=0.0, step=100.0, key="queue_max")
    min_age = cols[4].number_input("Older than (hours)", min_value=0.0, value=0.0, step=1.0, key="queue_age")
filters = QueueFilters(
    tool_id=None if tool_choice == "(all)" else tool_choice,
    requested_by=None if requester == "(all)" else requester,
    min_amount=Decimal(str(min_amount)) if min_amount else None,
    max_amount=Decimal(str(max_amount)) if max_amount else None,
    min_age_hours=min_age or None,
)

pending_tab, history_tab = st.tabs(["Pending", "History"])
with pending_tab:
    queue = build_queue(actor=actor, approvals=svc.approvals, drafts=svc.drafts, kernel=svc.kernel, filters=filters)
    if not queue:
        st.info("No pending requests match the filters.")
    for view in queue:
        request, draft = view.request, view.draft
        shown_amount = money(request.amount, request.currency) if request.amount else ""
        amount = f" · {shown_amount}" if shown_amount and shown_amount not in draft.title else ""
        title = f"`{request.request_id}` · {draft.title}{amount} · from {view.requester_name} · {view.age_hours:.1f} h old"
        with st.expander(title, expanded=True):
            left, right = st.columns([3, 2])
            with left:
                st.markdown(f"**Request** {draft.preview.get('summary', draft.title)}")
                progress = view.progress
                st.markdown(f"**Tool** `{request.tool_id}` (high risk) · {progress.summary()} · "
                            f"expires {minute(request.expires_at)} UTC")
                if progress.approver_ids:
                    names = ", ".join(users.get(a, a) for a in progress.approver_ids)
                    st.info(f"Approved so far by {names}. The request waits for {progress.waiting_for()}.")
                changes = draft.preview.get("changes", [])
                if changes:
                    st.markdown("**What will change in the Kernel**")
                    st.table([{"target": c.get("target"), "before": c.get("before") or "—", "after": c.get("after")}
                              for c in changes])
                st.markdown("**Checks when the draft was made**")
                for check in draft.preview.get("checks", []):
                    st.markdown(f"- ✔ {check}")
                st.markdown("**Warnings now**")
                for note in view.risk_notes:
                    st.markdown(f"- ⚠ {note}")
            with right:
                st.markdown(f"**Policy** {request.policy.get('description', '')}")
                st.caption(f"Approvers: {', '.join(request.policy.get('approver_roles', []))} with "
                           f"{request.policy.get('approver_scope')}; tenant mode {request.policy.get('tenant_approval_mode')}")
                if view.vendor_snapshot:
                    snapshot = dict(view.vendor_snapshot)
                    notes = snapshot.pop("notes_untrusted", "")
                    st.markdown("**Vendor snapshot**")
                    st.table([{"field": key.replace("_", " "), "value": str(value)} for key, value in snapshot.items()])
                    if notes:
                        st.caption(f"Vendor notes (typed by people, not instructions): {notes}")
                if request.conversation_excerpt:
                    st.markdown("**Conversation excerpt**")
                    with st.container(height=220, border=True):
                        # Plain text: the excerpt can quote vendor notes, and markdown would render their
                        # links, images and badges on the screen where the decision is made.
                        st.text(plain_excerpt(request.conversation_excerpt))
                for decision in view.decisions:
                    st.caption(f"{users.get(decision['approver_id'], decision['approver_id'])} chose "
                               f"{decision['decision']} at {decision['created_at'][:16]}")
            if is_approver and view.can_decide.allowed:
                b1, b2, _ = st.columns([1, 1, 4])
                if actor.user_id in view.progress.approver_ids:
                    b1.caption("You approved this request.")
                elif b1.button("Approve", key=f"approve_{request.request_id}", type="primary"):
                    confirm(request.request_id, "approve", title, waits_after(request),
                            tuple(note for note in view.risk_notes if "same invoice" in note or "already has payment" in note),
                            seen_round=request.round)
                if b2.button("Reject", key=f"reject_{request.request_id}"):
                    confirm(request.request_id, "reject", title)
            elif is_approver:
                st.info(f"You cannot decide this request: {view.can_decide.reason}")

with history_tab:
    done = build_queue(actor=actor, approvals=svc.approvals, drafts=svc.drafts, kernel=svc.kernel, filters=filters,
                       statuses=("approved", "executing", "executed", "failed", "rejected", "expired", "cancelled"))
    if not done:
        st.info("No decided requests match the filters.")
    else:
        st.dataframe(
            [{"request": v.request.request_id, "title": v.draft.title, "status": v.request.status,
              "amount": money(v.request.amount, v.request.currency) if v.request.amount else "",
              "requester": v.requester_name,
              "decided by": ", ".join(users.get(d["approver_id"], d["approver_id"]) for d in v.decisions),
              "reason": "; ".join(d["reason"] for d in v.decisions if d["reason"]),
              "decided (UTC)": minute(v.request.decided_at), "executed (UTC)": minute(v.request.executed_at),
              "error": v.request.error or ""}
             for v in reversed(done)],
            hide_index=True, width="stretch", key="approval_history",
        )
    failed = [v for v in done if v.request.status == "failed"]
    for view in failed:
        st.warning(f"`{view.request.request_id}` failed: {view.request.error} Next: {view.request.next_step}")
        if is_approver and view.can_decide.allowed and st.button("Retry execution", key=f"retry_{view.request.request_id}"):
            # A retry opens a new round that needs every approval again.
            confirm(view.request.request_id, "approve", f"Retry `{view.request.request_id}`",
                    waits_after(view.request, retry=True), seen_round=view.request.round)

"""Drafts, approval requests and executions: the "suggest first, execute with consent" rule.

Lifecycles::

    draft:             draft → submitted → approved | rejected | cancelled → executed
    approval request:  pending → approved | rejected | expired | cancelled
                       approved → executing → executed | failed
                       failed → approved (an approver retries) | cancelled

Rules, each refusal audited as "approval.refused" with the rule name:
- nobody approves their own request, and approvers come from the request's tenant;
- an approver holds one of the policy's approver roles and its approver scope, read fresh
  from the Kernel (the tenant's approval policy for the tool's domain);
- above the policy's second-approver threshold, two different approvers are needed, one
  of them holding a second-approver role;
- a request past its expiry time cannot be approved; a rejection needs a reason.

Exactly once: every transition is a conditional UPDATE, the execution of one approval
round is claimed by a unique row, and the Kernel write carries the request id as its
idempotency key. Repeating a decision returns the request's current outcome.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lynx_core.actor import Actor
from lynx_core.audit import AuditEvent, AuditLog
from lynx_core.errors import KernelError, KernelNotFoundError
from lynx_core.formatting import money, sentence
from lynx_core.kernel.base import Kernel
from lynx_core.policy.decision import Decision
from lynx_core.policy.executor import ExecutionGrant, ToolExecutor, payload_hash
from lynx_core.store.drafts import ApprovalRequest, Draft, DraftStore
from lynx_core.tools.registry import Layer, ToolRegistry

logger = logging.getLogger(__name__)

OPEN_STATUSES = ("pending", "approved", "executing")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def describe_result(result: Any) -> str:
    """Return one sentence naming what an execution created, from a cell tool's output."""
    if not isinstance(result, dict):
        return "The change was made in the Kernel."
    if "reference" in result:
        return (f"Payment {result['reference']} of {money(result.get('amount'), result.get('currency'))} to "
                f"{result.get('vendor_name', result.get('vendor_id'))} is {result.get('status')}, "
                f"VPM record {result.get('vpm_record_id')}.")
    if "published" in result:
        requests = "1 document request was" if result["published"] == 1 else f"{result['published']} document requests were"
        vendors = "1 vendor" if result.get("vendor_count") == 1 else f"{result.get('vendor_count')} vendors"
        return f"{requests} sent to {vendors}."
    if "workflow_id" in result:
        return f"Workflow {result.get('name')} ({result['workflow_id']}) is {result.get('status')}, version {result.get('version')}."
    if "portal_id" in result:
        return f"Portal {result.get('name')} ({result['portal_id']}) is {result.get('status')}."
    return "The change was made in the Kernel."


@dataclass(frozen=True)
class ApprovalProgress:
    """Approvals recorded in a request's current round, and how many more it needs."""

    approver_ids: tuple[str, ...]
    required: int
    missing: int
    #: Roles of which one more approver is needed, or empty when any approver role will do.
    second_roles: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.missing == 0

    def summary(self) -> str:
        """Describe the approvals recorded, e.g. "1 of 2 approvals recorded".

        When the recorded approvals reach the count but a second-approver role is still
        missing, no "of N" is given, since "2 of 2" would read as complete.
        """
        recorded = len(self.approver_ids)
        if recorded + self.missing == self.required:
            return f"{recorded} of {self.required} approvals recorded"
        return f"{recorded} approval{'' if recorded == 1 else 's'} recorded"

    def waiting_for(self) -> str:
        """Describe what the request still waits for, e.g. "1 more approval, by a financial_controller"."""
        if self.complete:
            return "nothing more"
        roles = " or ".join(self.second_roles)
        if self.missing == 1:
            return f"1 more approval, by a {roles}" if roles else "1 more approval"
        count = f"{self.missing} more approvals"
        return f"{count}, one of them by a {roles}" if roles else count


def approval_progress(request: ApprovalRequest, decisions: list[dict[str, Any]]) -> ApprovalProgress:
    """Count the distinct approvers of the request's current round against what its policy requires."""
    approvals = [d for d in decisions if d["round"] == request.round and d["decision"] == "approve"]
    approver_ids = tuple(dict.fromkeys(d["approver_id"] for d in approvals))
    missing = max(0, request.required_approvals - len(approver_ids))
    second_roles: tuple[str, ...] = ()
    if request.required_approvals >= 2:
        second_role_names = set(request.policy.get("second_approver_roles") or [])
        if not any(second_role_names & set(d["approver_roles"]) for d in approvals):
            second_roles = tuple(sorted(second_role_names))
            missing = max(missing, 1)
    return ApprovalProgress(approver_ids, request.required_approvals, missing, second_roles)


@dataclass(frozen=True)
class ApprovalOutcome:
    """The result shown to a person after submitting, deciding, retrying or cancelling."""

    request_id: str | None
    status: str
    message: str
    refusal: Decision | None = None
    result: Any = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


class ApprovalService:
    def __init__(
        self,
        *,
        kernel: Kernel,
        drafts: DraftStore,
        audit: AuditLog,
        executor: ToolExecutor,
        registry: ToolRegistry,
        default_expiry_hours: int = 72,
    ) -> None:
        self.kernel = kernel
        self.drafts = drafts
        self.audit = audit
        self.executor = executor
        self.registry = registry
        self.default_expiry_hours = default_expiry_hours

    # Submitting.

    def submit(self, actor: Actor, draft_id: str, *, conversation_excerpt: str = "", run_id: str | None = None) -> ApprovalOutcome:
        """Open an approval request for one of the actor's drafts."""
        draft = self.drafts.get_draft(actor.tenant_id, draft_id)
        if draft is None:
            return self._refuse(actor, None, "not_found", f"No draft {draft_id!r} exists in your tenant.",
                                alternative="Ask Lynx to prepare the draft again.", subject_id=draft_id)
        if draft.created_by != actor.user_id:
            return self._refuse(actor, None, "not_owner", "Only the person who prepared a draft can request its approval.",
                                alternative="Ask the draft's author to request approval.", subject_id=draft_id)
        if not draft.execute_tool_id:
            return self._refuse(actor, None, "no_cell_tool",
                                "This draft is a proposal that a person applies by hand; there is nothing for Lynx to execute.",
                                alternative="Share the proposal with your tenant administrator.", subject_id=draft_id)
        existing = self.drafts.list_requests(actor.tenant_id, draft_id=draft_id, statuses=OPEN_STATUSES)
        if existing:
            request = existing[0]
            return ApprovalOutcome(request.request_id, request.status,
                                   f"Approval was already requested for this draft; the request is {request.status}.")
        if draft.status != "draft":
            return self._refuse(actor, None, "approval_state", f"The draft is {draft.status} and cannot be submitted again.",
                                alternative="Ask Lynx for a new draft.", subject_id=draft_id)

        tool = self.registry.get(draft.execute_tool_id)
        assert tool.approval_domain is not None
        policy = self.kernel.get_approval_policy(actor.tenant_id, tool.approval_domain)
        tenant = self.kernel.get_tenant(actor.tenant_id)
        clean_payload = tool.input_model.model_validate(draft.payload).model_dump(mode="json")
        amount = self._draft_amount(draft)
        threshold = policy.second_approver_threshold
        needs_second = (
            threshold is not None and amount is not None and amount > threshold and bool(policy.second_approver_roles)
        )
        expiry_hours = policy.expiry_hours or self.default_expiry_hours
        policy_snapshot = {
            "policy_id": policy.id,
            "domain": policy.domain,
            "description": policy.description,
            "approver_roles": policy.approver_roles,
            "approver_scope": policy.approver_scope,
            "second_approver_threshold": str(threshold) if threshold is not None else None,
            "second_approver_roles": policy.second_approver_roles,
            "expiry_hours": expiry_hours,
            "tenant_approval_mode": tenant.settings.approval_mode,
        }

        if not self.drafts.move_draft(actor.tenant_id, draft_id, from_status=("draft",), to_status="submitted"):
            current = self.drafts.get_draft(actor.tenant_id, draft_id)
            return self._refuse(actor, None, "approval_state",
                                f"The draft changed to {current.status if current else 'missing'} while submitting.",
                                subject_id=draft_id)
        request = self.drafts.create_request(
            tenant_id=actor.tenant_id, draft_id=draft_id, tool_id=tool.id, domain=policy.domain,
            requested_by=actor.user_id, amount=str(amount) if amount is not None else None,
            currency=draft.preview.get("currency"), required_approvals=2 if needs_second else 1,
            policy=policy_snapshot, conversation_excerpt=conversation_excerpt[:4000],
            payload_hash=payload_hash(clean_payload), expires_at=_now() + dt.timedelta(hours=expiry_hours),
        )
        self._event("draft.submitted", actor, request, run_id=run_id, subject_id=draft_id)
        self._event("approval.requested", actor, request, run_id=run_id,
                    details={"required_approvals": request.required_approvals, "policy": policy_snapshot})
        who = " or ".join(policy.approver_roles)
        message = f"Approval requested from a {who} (scope {policy.approver_scope})."
        if needs_second:
            message += (f" The amount is above {money(threshold, request.currency)}, so two approvers are needed, "
                        f"one of them a {' or '.join(policy.second_approver_roles)}.")
        message += f" The request expires in {expiry_hours} hours."
        return ApprovalOutcome(request.request_id, request.status, message)

    @staticmethod
    def _draft_amount(draft: Draft) -> Decimal | None:
        raw = draft.preview.get("amount") or draft.payload.get("amount")
        if raw is None:
            return None
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            return None

    # Deciding.

    def approve(self, actor: Actor, request_id: str, *, seen_round: int | None = None) -> ApprovalOutcome:
        """Approve the request. With ``seen_round``, approve only while it is in the round the approver saw.

        Pages pass the round they showed, so a retry clicked twice, or by two approvers at
        once, opens one new round and not one per click.
        """
        return self._decide(actor, request_id, "approve", "", seen_round=seen_round)

    def reject(self, actor: Actor, request_id: str, reason: str) -> ApprovalOutcome:
        return self._decide(actor, request_id, "reject", reason)

    def _decide(self, actor: Actor, request_id: str, decision: str, reason: str,
                *, seen_round: int | None = None) -> ApprovalOutcome:
        request = self._load(actor, request_id)
        if isinstance(request, ApprovalOutcome):
            return request
        request = self._expire_if_due(actor, request)

        try:
            approver, refusal = self._check_approver(actor, request)
        except KernelError as exc:
            logger.error("kernel unavailable for an approval: %s", exc,
                         extra={"request_id": request.request_id, "tenant_id": actor.tenant_id})
            return self._refuse(actor, request, "kernel_unavailable",
                                f"The Kernel could not confirm your approver role and scope ({exc.message}).",
                                alternative="Try again in a minute; nothing was decided.")
        if refusal is not None:
            return self._refuse(actor, request, refusal.rule, refusal.reason, needed=refusal.needed,
                                alternative=refusal.alternative)

        if seen_round is not None and request.round != seen_round:
            logger.info("approval of %s skipped: round %s was shown, the request is in round %s",
                        request.request_id, seen_round, request.round,
                        extra={"request_id": request.request_id, "tenant_id": actor.tenant_id})
            return self._current(request, "Another approver acted on this request since you opened it.")

        if request.status != "pending":
            if decision == "approve" and request.status in ("approved", "executing", "executed"):
                return self._settled(request, "The request was already approved.")
            if request.status == "failed" and decision == "approve":
                reopened = self._reopen(approver, request)
                if isinstance(reopened, ApprovalOutcome):
                    return reopened
                request = reopened
            else:
                return self._refuse(actor, request, "approval_state" if request.status != "expired" else "approval_expired",
                                    f"The request is {request.status}; only pending requests can be decided.",
                                    alternative="Ask the requester to submit a new request." if request.status == "expired" else "")

        if decision == "reject":
            reason = (reason or "").strip()
            if len(reason) < 3:
                return self._refuse(actor, request, "reason_required", "A rejection needs a reason the requester can act on.",
                                    needed="a reason of at least 3 characters", alternative="Enter the reason and reject again.")
            self.drafts.add_decision(tenant_id=actor.tenant_id, request_id=request.request_id, round_number=request.round,
                                     approver_id=approver.user_id, approver_roles=sorted(approver.roles),
                                     decision="reject", reason=reason)
            if not self.drafts.move_request(
                actor.tenant_id, request.request_id, from_status=("pending",), to_status="rejected",
                decided_at=_now().isoformat(),
                next_step=f"Rejected by {approver.display_name}: {sentence(reason)} Ask Lynx for a new draft if it is still needed.",
            ):
                return self._current(self._reload(request), "The request was decided by someone else first.")
            self.drafts.move_draft(actor.tenant_id, request.draft_id, from_status=("submitted",), to_status="rejected")
            self._event("approval.rejected", approver, request, reason=reason)
            return ApprovalOutcome(request.request_id, "rejected", f"Rejected: {reason}")

        added = self.drafts.add_decision(tenant_id=actor.tenant_id, request_id=request.request_id, round_number=request.round,
                                         approver_id=approver.user_id, approver_roles=sorted(approver.roles),
                                         decision="approve", reason=reason)
        if not added:
            return self._settled(request, "You already approved this request.")

        progress = self.progress(request)
        if not progress.complete:
            self._event("approval.partially_approved", approver, request,
                        details={"required_approvals": request.required_approvals,
                                 "approvals_recorded": len(progress.approver_ids)})
            return ApprovalOutcome(request.request_id, "pending",
                                   f"Your approval is recorded. The request now waits for {progress.waiting_for()}; "
                                   "nothing changes in the Kernel until then.")

        if not self.drafts.move_request(actor.tenant_id, request.request_id, from_status=("pending",),
                                        to_status="approved", decided_at=_now().isoformat()):
            return self._settled(request, "The request was already decided.")
        self.drafts.move_draft(actor.tenant_id, request.draft_id, from_status=("submitted",), to_status="approved")
        self._event("approval.approved", approver, request)
        return self._execute(approver, self._reload(request))

    def progress(self, request: ApprovalRequest) -> ApprovalProgress:
        """Return the approvals recorded in the request's current round and how many more it needs."""
        return approval_progress(request, self.drafts.list_decisions(request.tenant_id, request.request_id))

    def progress_after_approval(self, actor: Actor, request: ApprovalRequest, *, retry: bool = False) -> ApprovalProgress:
        """Return the progress the request would have after the actor approves it.

        The actor's roles are read from the Kernel, as a decision records them. With ``retry``
        the approval opens a new round, which starts with no approvals.
        """
        approver, _ = self._check_approver(actor, request)
        target = dataclasses.replace(request, round=request.round + 1) if retry else request
        decisions = [] if retry else self.drafts.list_decisions(request.tenant_id, request.request_id)
        mine = {"approver_id": approver.user_id, "approver_roles": sorted(approver.roles),
                "decision": "approve", "round": target.round}
        return approval_progress(target, [*decisions, mine])

    def _check_approver(self, actor: Actor, request: ApprovalRequest) -> tuple[Actor, Decision | None]:
        try:
            user = self.kernel.get_user(actor.tenant_id, actor.user_id)
        except KernelNotFoundError:
            return actor, Decision.deny("user_inactive", "Your account no longer exists in the Kernel.")
        approver = Actor.from_user(user)
        if not user.active:
            return approver, Decision.deny("user_inactive", "Your account is disabled in the Kernel.")
        if approver.user_id == request.requested_by:
            return approver, Decision.deny(
                "self_approval", "You requested this action, and nobody approves their own request.",
                needed="an approval by another person", alternative="Ask another approver of your tenant to decide it.",
            )
        policy = request.policy
        roles = set(policy["approver_roles"]) | set(policy.get("second_approver_roles") or [])
        if not approver.roles & roles:
            return approver, Decision.deny(
                "approver_role_required",
                f"Under your tenant's {policy['domain']} policy, only a {' or '.join(sorted(roles))} may decide this request.",
                needed=f"role {' or '.join(sorted(roles))}", alternative="Ask a colleague with that role.",
            )
        if policy["approver_scope"] not in approver.scopes:
            return approver, Decision.deny(
                "approver_scope_required",
                f"Deciding this request needs the scope {policy['approver_scope']}, which your account does not have.",
                needed=f"scope {policy['approver_scope']}", alternative="Ask your tenant administrator, or another approver.",
            )
        return approver, None

    def _expire_if_due(self, actor: Actor, request: ApprovalRequest) -> ApprovalRequest:
        if request.status == "pending" and request.expires <= _now():
            if self.drafts.move_request(actor.tenant_id, request.request_id, from_status=("pending",), to_status="expired",
                                        next_step="Submit the draft again to open a new request."):
                self.drafts.move_draft(actor.tenant_id, request.draft_id, from_status=("submitted",), to_status="draft")
                self._event("approval.expired", actor, request, reason=f"expired at {request.expires_at}")
            return self._reload(request)
        return request

    def expire_due(self, tenant_id: str, *, system_actor_id: str = "system") -> int:
        """Expire every pending request of the tenant whose time is up; return how many."""
        expired = 0
        for request in self.drafts.list_requests(tenant_id, statuses=("pending",)):
            if request.expires <= _now() and self.drafts.move_request(
                tenant_id, request.request_id, from_status=("pending",), to_status="expired",
                next_step="Submit the draft again to open a new request.",
            ):
                self.drafts.move_draft(tenant_id, request.draft_id, from_status=("submitted",), to_status="draft")
                self.audit.append(AuditEvent(
                    event_type="approval.expired", tenant_id=tenant_id, actor_id=system_actor_id,
                    tool_id=request.tool_id, subject_id=request.request_id, reason=f"expired at {request.expires_at}",
                ))
                expired += 1
        return expired

    # Executing.

    def _reopen(self, approver: Actor, request: ApprovalRequest) -> ApprovalRequest | ApprovalOutcome:
        """Open a new approval round for a failed request; it needs the full set of approvals again.

        The round in the WHERE clause makes two approvers retrying at once open one round,
        not two.
        """
        next_round = request.round + 1
        expires = _now() + dt.timedelta(hours=int(request.policy.get("expiry_hours") or self.default_expiry_hours))
        if not self.drafts.move_request(request.tenant_id, request.request_id, from_status=("failed",),
                                        to_status="pending", expected_round=request.round, round=next_round,
                                        expires_at=expires.isoformat(), error=None, next_step=None):
            return self._settled(request, "Another approver is already retrying this request.")
        self.drafts.move_draft(request.tenant_id, request.draft_id, from_status=("approved",), to_status="submitted")
        reopened = self._reload(request)
        self._event("approval.requested", approver, reopened,
                    details={"round": next_round, "retry_after_failed_round": request.round,
                             "required_approvals": reopened.required_approvals})
        return reopened

    def _execute(self, approver: Actor, request: ApprovalRequest) -> ApprovalOutcome:
        if not self.drafts.move_request(request.tenant_id, request.request_id, from_status=("approved",), to_status="executing"):
            return self._settled(request, "The request is already being carried out.")
        if not self.drafts.start_execution(tenant_id=request.tenant_id, request_id=request.request_id,
                                           round_number=request.round, tool_id=request.tool_id):
            return self._current(self._reload(request), "This approval round was already carried out.")
        self._event("execution.started", approver, request, details={"round": request.round})

        draft = self.drafts.get_draft(request.tenant_id, request.draft_id)
        assert draft is not None
        try:
            requester = Actor.from_user(self.kernel.get_user(request.tenant_id, request.requested_by))
            result = self.executor.execute(
                requester, request.tool_id, draft.payload, run_id=draft.run_id,
                grant=ExecutionGrant(request.request_id, request.round),
            )
        except KernelNotFoundError:
            return self._fail(approver, request, "The requester's account no longer exists in the Kernel.",
                              "Cancel this request; the draft cannot be carried out for a removed account.")
        except Exception as exc:  # the request must not stay "executing" whatever went wrong
            logger.exception("execution crashed", extra={"request_id": request.request_id, "tenant_id": request.tenant_id})
            return self._fail(approver, request, f"The execution stopped with an error ({type(exc).__name__}: {exc}).",
                              "Check that the Kernel is reachable, then an approver can retry from the Approvals page, "
                              "or the requester can cancel the draft.")
        if not result.ok:
            return self._fail(approver, request, result.error or "The execution failed.",
                              "Fix the cause shown above, then an approver can retry from the Approvals page, "
                              "or the requester can cancel the draft.", tool_event_id=result.audit_event_id)

        self.drafts.finish_execution(request_id=request.request_id, round_number=request.round, status="succeeded",
                                     result=result.output)
        self.drafts.move_request(request.tenant_id, request.request_id, from_status=("executing",), to_status="executed",
                                 executed_at=_now().isoformat(), result_json=json.dumps(result.output, default=str))
        self.drafts.move_draft(request.tenant_id, request.draft_id, from_status=("approved",), to_status="executed")
        self._event("execution.succeeded", approver, request, output=result.output,
                    details={"tool_event_id": result.audit_event_id, "round": request.round})
        logger.info("approval executed", extra={"request_id": request.request_id, "tenant_id": request.tenant_id,
                                                 "tool_id": request.tool_id})
        return ApprovalOutcome(request.request_id, "executed",
                               f"Approved and carried out. {describe_result(result.output)}", result=result.output)

    def _fail(self, approver: Actor, request: ApprovalRequest, error: str, next_step: str,
              tool_event_id: str | None = None) -> ApprovalOutcome:
        self.drafts.finish_execution(request_id=request.request_id, round_number=request.round, status="failed", error=error)
        self.drafts.move_request(request.tenant_id, request.request_id, from_status=("executing",), to_status="failed",
                                 error=error, next_step=next_step)
        self._event("execution.failed", approver, request, error=error,
                    details={"next_step": next_step, "tool_event_id": tool_event_id, "round": request.round})
        logger.warning("approval execution failed: %s", error,
                       extra={"request_id": request.request_id, "tenant_id": request.tenant_id})
        return ApprovalOutcome(request.request_id, "failed", f"The execution failed: {error} Next: {next_step}")

    # Cancelling.

    def cancel(self, actor: Actor, request_id: str, reason: str = "") -> ApprovalOutcome:
        request = self._load(actor, request_id)
        if isinstance(request, ApprovalOutcome):
            return request
        if actor.user_id != request.requested_by:
            _, refusal = self._check_approver(actor, request)
            if refusal is not None:
                return self._refuse(actor, request, "not_owner",
                                    "Only the requester or an approver of the request may cancel it.")
        if not self.drafts.move_request(actor.tenant_id, request_id, from_status=("pending", "approved", "failed"),
                                        to_status="cancelled", decided_at=_now().isoformat()):
            return self._refuse(actor, self._reload(request), "approval_state",
                                f"The request is {self._reload(request).status} and can no longer be cancelled.")
        self.drafts.move_draft(actor.tenant_id, request.draft_id, from_status=("submitted", "approved"), to_status="cancelled")
        self._event("draft.cancelled", actor, request, reason=reason or "cancelled", subject_id=request.draft_id)
        return ApprovalOutcome(request_id, "cancelled", "Cancelled; nothing was changed in the Kernel.")

    def cancel_draft(self, actor: Actor, draft_id: str, reason: str = "") -> ApprovalOutcome:
        """Cancel a draft that has no open request (its open request, if any, is cancelled too)."""
        open_requests = self.drafts.list_requests(actor.tenant_id, draft_id=draft_id, statuses=("pending", "approved", "failed"))
        if open_requests:
            return self.cancel(actor, open_requests[0].request_id, reason)
        draft = self.drafts.get_draft(actor.tenant_id, draft_id)
        if draft is None or draft.created_by != actor.user_id:
            return self._refuse(actor, None, "not_owner", "Only the author can cancel a draft of their own tenant.",
                                subject_id=draft_id)
        if not self.drafts.move_draft(actor.tenant_id, draft_id, from_status=("draft",), to_status="cancelled"):
            return self._refuse(actor, None, "approval_state", f"The draft is {draft.status} and cannot be cancelled.",
                                subject_id=draft_id)
        self.audit.append(AuditEvent(event_type="draft.cancelled", tenant_id=actor.tenant_id, actor_id=actor.user_id,
                                     tool_id=draft.tool_id, subject_id=draft_id, reason=reason or "cancelled"))
        return ApprovalOutcome(None, "cancelled", "Draft cancelled.")

    # Reading.

    def queue(self, actor: Actor, *, statuses: tuple[str, ...] = ("pending",)) -> list[ApprovalRequest]:
        """List the tenant's requests in ``statuses`` that the actor may see."""
        self.expire_due(actor.tenant_id)
        requests = self.drafts.list_requests(actor.tenant_id, statuses=statuses)
        return [request for request in requests if self.can_view(actor, request)]

    def can_view(self, actor: Actor, request: ApprovalRequest) -> bool:
        """Return whether the actor may see the request: its requester, a reader of its domain, or an approver.

        A request shows amounts, vendor data and the requester's conversation, so a user who may
        not read the tool's domain (e.g. a viewer without finance:read) does not see it.
        """
        if request.tenant_id != actor.tenant_id:
            return False
        if request.requested_by == actor.user_id:
            return True
        if request.tool_id in self.registry and f"{self.registry.get(request.tool_id).domain}:read" in actor.scopes:
            return True
        return self.can_decide(actor, request).allowed

    def can_decide(self, actor: Actor, request: ApprovalRequest) -> Decision:
        _, refusal = self._check_approver(actor, request)
        return refusal or Decision.allow("approver")

    def is_approver(self, actor: Actor) -> bool:
        """Return whether the actor may decide requests of at least one domain of their tenant."""
        for policy in self.kernel.list_approval_policies(actor.tenant_id):
            roles = set(policy.approver_roles) | set(policy.second_approver_roles)
            if actor.roles & roles and policy.approver_scope in actor.scopes:
                return True
        return False

    # Helpers.

    def _load(self, actor: Actor, request_id: str) -> ApprovalRequest | ApprovalOutcome:
        request = self.drafts.get_request(actor.tenant_id, request_id)
        if request is not None:
            return request
        owner = self.drafts.find_request_tenant(request_id)
        if owner is not None and owner != actor.tenant_id:
            self.audit.append(AuditEvent(
                event_type="tenant.isolation_breach", tenant_id=actor.tenant_id, actor_id=actor.user_id,
                subject_id=request_id, rule="tenant_isolation",
                reason="An approval decision named a request of another tenant.",
            ))
            logger.critical("tenant isolation breach", extra={
                "tenant_id": actor.tenant_id, "user_id": actor.user_id, "request_id": request_id,
                "owner_tenants": [owner]})
            return self._refuse(actor, None, "tenant_isolation",
                                "That approval request does not belong to your tenant; the attempt was logged.",
                                alternative="Open the Approvals page to see your tenant's requests.", subject_id=request_id)
        return self._refuse(actor, None, "not_found", f"No approval request {request_id!r} exists in your tenant.",
                            subject_id=request_id)

    def _reload(self, request: ApprovalRequest) -> ApprovalRequest:
        fresh = self.drafts.get_request(request.tenant_id, request.request_id)
        assert fresh is not None
        return fresh

    def _settled(self, request: ApprovalRequest, message: str, *, timeout: float = 30.0) -> ApprovalOutcome:
        """Wait while another caller finishes deciding or executing, then return the outcome.

        A double click or a retry after a timeout thus returns the same outcome as the call
        that did the work, instead of a moment in between.
        """
        deadline = time.monotonic() + timeout
        current = self._reload(request)
        while time.monotonic() < deadline and (
            current.status in ("approved", "executing")
            or (current.status == "pending" and self.progress(current).complete)
        ):
            time.sleep(0.05)
            current = self._reload(request)
        return self._current(current, message)

    @staticmethod
    def _current(request: ApprovalRequest, message: str) -> ApprovalOutcome:
        if request.status == "executed":
            message += f" It was carried out. {describe_result(request.result)}"
        elif request.status == "failed":
            message += f" Its execution failed: {request.error}"
        return ApprovalOutcome(request.request_id, request.status, message, result=request.result)

    def _event(self, event_type: str, actor: Actor, request: ApprovalRequest, *, run_id: str | None = None,
               subject_id: str | None = None, reason: str | None = None, error: str | None = None,
               output: Any = None, details: dict[str, Any] | None = None) -> str:
        base = {"request_id": request.request_id, "draft_id": request.draft_id, "amount": request.amount,
                "currency": request.currency, "requested_by": request.requested_by}
        tool = self.registry.get(request.tool_id) if request.tool_id in self.registry else None
        return self.audit.append(AuditEvent(
            event_type=event_type, tenant_id=request.tenant_id, actor_id=actor.user_id, run_id=run_id,
            tool_id=request.tool_id, layer=tool.layer.value if tool else Layer.CELL.value,
            risk=tool.risk.value if tool else None, subject_id=subject_id or request.request_id,
            reason=reason, error=error, output=output, details={**base, **(details or {})},
        ))

    def _refuse(self, actor: Actor, request: ApprovalRequest | None, rule: str, reason: str, *, needed: str = "",
                alternative: str = "", subject_id: str | None = None) -> ApprovalOutcome:
        decision = Decision.deny(rule, reason, needed=needed, alternative=alternative)
        self.audit.append(AuditEvent(
            event_type="approval.refused", tenant_id=actor.tenant_id, actor_id=actor.user_id,
            tool_id=request.tool_id if request else None,
            subject_id=request.request_id if request else subject_id,
            rule=rule, reason=reason, alternative=alternative or None,
            details={"needed": needed} if needed else {},
        ))
        logger.info("approval action refused by %s", rule,
                    extra={"tenant_id": actor.tenant_id, "user_id": actor.user_id,
                           "request_id": request.request_id if request else subject_id})
        return ApprovalOutcome(request.request_id if request else None, request.status if request else "refused",
                               decision.explain(), refusal=decision)

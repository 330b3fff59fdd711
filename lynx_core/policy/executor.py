"""The governed executor: the only way any tool runs.

Every call, from the chat, an approval or a job, goes through `ToolExecutor.execute`:

resolve tool → parse and validate input → tenant guard → roles and scopes (read fresh from
the Kernel) → risk gate → audit "tool.started" → handler → validate output → audit outcome.

A refusal at any step is an audit event with the rule, the reason and an alternative. It comes
back as a `ToolCallResult` with status "refused". The executor raises only `AuditWriteError`,
when the audit log cannot record the call at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from lynx_core.actor import Actor
from lynx_core.audit import AuditEvent, AuditLog
from lynx_core.errors import KernelError, KernelNotFoundError, LynxError, ToolNotFoundError
from lynx_core.ids import new_id
from lynx_core.kernel.base import Kernel
from lynx_core.policy.decision import Decision
from lynx_core.policy.permissions import check_roles_and_scopes, check_tenant
from lynx_core.store.drafts import DraftStore
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer, Tool, ToolRegistry

logger = logging.getLogger(__name__)

#: Largest tool input accepted, in bytes of JSON. Real inputs are a few hundred bytes.
MAX_INPUT_BYTES = 64 * 1024


def payload_hash(data: dict[str, Any]) -> str:
    """Return the SHA-256 of a validated input as canonical JSON; approvals pin it."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ExecutionGrant:
    """Handed to the executor by the approval service for one claimed approval round.

    The executor does not trust the grant itself: it re-reads the request and checks that it
    is executing, that the round was claimed, and that the tool and input hash match.
    """

    request_id: str
    round: int


@dataclass
class ToolCallResult:
    call_id: str
    tool_id: str
    layer: str | None
    risk: str | None
    status: str  # succeeded, failed or refused
    input: Any
    output: dict[str, Any] | None = None
    error: str | None = None
    refusal: Decision | None = None
    latency_ms: float = 0.0
    audit_event_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def for_model(self) -> dict[str, Any]:
        """Return the content sent to the language model: data, error or refusal, never instructions."""
        if self.status == "succeeded":
            return {"status": "succeeded", "data": self.output}
        if self.status == "refused" and self.refusal is not None:
            return {
                "status": "refused",
                "rule": self.refusal.rule,
                "reason": self.refusal.reason,
                "needed": self.refusal.needed,
                "alternative": self.refusal.alternative,
            }
        return {"status": self.status, "error": self.error}


class ToolExecutor:
    def __init__(self, *, registry: ToolRegistry, kernel: Kernel, audit: AuditLog, drafts: DraftStore) -> None:
        self.registry = registry
        self.kernel = kernel
        self.audit = audit
        self.drafts = drafts

    def execute(
        self,
        actor: Actor,
        tool_id: str,
        raw_input: dict[str, Any] | str | None,
        *,
        run_id: str | None = None,
        grant: ExecutionGrant | None = None,
    ) -> ToolCallResult:
        """Run one tool call through every gate; see the module docstring for the order."""
        call_id = new_id("call")
        started = time.perf_counter()

        try:
            tool = self.registry.get(tool_id)
        except ToolNotFoundError as exc:
            return self._refuse(
                actor, None, tool_id, call_id, run_id, raw_input, started,
                Decision.deny("unknown_tool", exc.message,
                              alternative="Use one of the registered tools; ask Lynx what it can do."),
            )

        if tool.layer is Layer.CELL and grant is None:
            # Checked before the input: without a recorded human approval a cell tool never
            # runs, whatever its arguments contain.
            return self._refuse(actor, tool, tool_id, call_id, run_id, raw_input, started,
                                self._risk_gate(actor, tool, {}, None))

        parsed, problem = self._parse(raw_input)
        if problem is not None:
            return self._refuse(actor, tool, tool_id, call_id, run_id, raw_input, started, problem)

        try:
            tool_input = tool.input_model.model_validate(parsed)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()
            ]
            decision = Decision.deny(
                "invalid_input",
                f"The input for {tool.id} is invalid: {'; '.join(problems)}.",
                needed="an input that matches the tool's schema",
                alternative="Correct the listed fields and try again.",
            )
            return self._refuse(actor, tool, tool_id, call_id, run_id, parsed, started, decision)
        clean_input = tool_input.model_dump(mode="json")

        try:
            decision, foreign = check_tenant(actor=actor, tool=tool, tool_input=tool_input, kernel=self.kernel)
            fresh_actor, active = self._fresh_actor(actor)
        except KernelError as exc:
            # Without a reply from the Kernel neither the owner of a record nor the caller's
            # current roles are known, so the call cannot be allowed.
            logger.error("kernel unavailable for the gate: %s", exc,
                         extra={"tool_id": tool.id, "call_id": call_id, "run_id": run_id, "tenant_id": actor.tenant_id})
            return self._refuse(actor, tool, tool_id, call_id, run_id, clean_input, started, Decision.deny(
                "kernel_unavailable",
                f"The Kernel could not be asked whether this call is allowed ({exc.message}).",
                alternative="Try again in a minute; if it keeps failing, tell the operations team.",
            ))
        if not decision.allowed:
            self.audit.append(AuditEvent(
                event_type="tenant.isolation_breach", tenant_id=actor.tenant_id, actor_id=actor.user_id,
                run_id=run_id, tool_id=tool.id, layer=tool.layer, risk=tool.risk, subject_id=call_id,
                input=clean_input, rule="tenant_isolation", reason=decision.reason,
                details={"foreign_records": [{k: v for k, v in f.items() if k != "owner"} for f in foreign]},
            ))
            # The owning tenant goes to the operations log only: the caller's tenant can read its
            # own audit log, and must not learn which other tenant owns the record.
            logger.critical("tenant isolation breach", extra={
                "tenant_id": actor.tenant_id, "user_id": actor.user_id, "tool_id": tool.id, "call_id": call_id,
                "owner_tenants": sorted({f["owner"] for f in foreign})})
            return self._refuse(actor, tool, tool_id, call_id, run_id, clean_input, started, decision)

        decision = check_roles_and_scopes(actor=fresh_actor, tool=tool, active=active)
        if not decision.allowed:
            return self._refuse(actor, tool, tool_id, call_id, run_id, clean_input, started, decision)

        decision = self._risk_gate(fresh_actor, tool, clean_input, grant)
        if not decision.allowed:
            return self._refuse(actor, tool, tool_id, call_id, run_id, clean_input, started, decision)

        self.audit.append(AuditEvent(
            event_type="tool.started", tenant_id=actor.tenant_id, actor_id=actor.user_id, run_id=run_id,
            tool_id=tool.id, layer=tool.layer, risk=tool.risk, subject_id=call_id, input=clean_input,
            details={"approval_request_id": grant.request_id} if grant else {},
        ))
        return self._run(fresh_actor, tool, tool_input, clean_input, call_id, run_id, grant, started)

    # The steps.

    def _parse(self, raw_input: dict[str, Any] | str | None) -> tuple[dict[str, Any], Decision | None]:
        if raw_input is None or raw_input == "":
            return {}, None
        if isinstance(raw_input, str):
            if len(raw_input.encode("utf-8")) > MAX_INPUT_BYTES:
                return {}, self._too_large(len(raw_input.encode("utf-8")))
            try:
                raw_input = json.loads(raw_input)
            except json.JSONDecodeError as exc:
                return {}, Decision.deny(
                    "invalid_input",
                    f"The tool arguments are not valid JSON ({exc.msg} at position {exc.pos}).",
                    needed="a JSON object with the tool's fields",
                    alternative="Send the arguments again as a JSON object.",
                )
        if not isinstance(raw_input, dict):
            return {}, Decision.deny(
                "invalid_input",
                f"The tool arguments must be a JSON object, not {type(raw_input).__name__}.",
                needed="a JSON object with the tool's fields",
                alternative="Send the arguments again as a JSON object.",
            )
        size = len(json.dumps(raw_input, default=str).encode("utf-8"))
        if size > MAX_INPUT_BYTES:
            return {}, self._too_large(size)
        return raw_input, None

    @staticmethod
    def _too_large(size: int) -> Decision:
        return Decision.deny(
            "input_too_large",
            f"The tool input is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes.",
            needed="a smaller input",
            alternative="Split the request into smaller ones, e.g. one vendor at a time.",
        )

    def _fresh_actor(self, actor: Actor) -> tuple[Actor, bool]:
        """Read the user's current roles and scopes from the Kernel, the source of truth."""
        try:
            user = self.kernel.get_user(actor.tenant_id, actor.user_id)
        except KernelNotFoundError:
            return actor, False
        return Actor.from_user(user), user.active

    def _risk_gate(self, actor: Actor, tool: Tool, clean_input: dict[str, Any], grant: ExecutionGrant | None) -> Decision:
        if tool.layer is not Layer.CELL:
            return Decision.allow("risk_gate")
        needed = "an approval request approved by another person who holds the approver role"
        alternative = (
            "Ask Lynx to prepare a draft and request approval; a manager approves it on the "
            "Approvals page and Lynx then carries it out."
        )
        if grant is None:
            return Decision.deny(
                "approval_required",
                f"{tool.id} changes live data (high risk) and runs only from an approved approval "
                "request. No message, note or model output can stand in for that approval.",
                needed=needed, alternative=alternative,
            )
        request = self.drafts.get_request(actor.tenant_id, grant.request_id)
        execution = self.drafts.get_execution(grant.request_id, grant.round)
        problem = None
        if request is None:
            problem = "the approval request does not exist in your tenant"
        elif request.status != "executing" or request.round != grant.round:
            problem = f"the approval request is {request.status}, not being executed"
        elif request.tool_id != tool.id:
            problem = f"the approval request is for {request.tool_id}, not {tool.id}"
        elif request.payload_hash != payload_hash(clean_input):
            problem = "the input differs from the approved draft"
        elif execution is None or execution["status"] != "started":
            problem = "this approval round was not claimed for execution"
        if problem:
            return Decision.deny("approval_required", f"{tool.id} cannot run: {problem}.",
                                 needed=needed, alternative=alternative)
        return Decision.allow("risk_gate")

    def _run(
        self, actor: Actor, tool: Tool, tool_input: BaseModel, clean_input: dict[str, Any],
        call_id: str, run_id: str | None, grant: ExecutionGrant | None, started: float,
    ) -> ToolCallResult:
        context = ToolContext(
            actor=actor, kernel=self.kernel, drafts=self.drafts, run_id=run_id, call_id=call_id,
            approval_request_id=grant.request_id if grant else None,
            idempotency_key=grant.request_id if grant else None,
            audit=self.audit,
            registry=self.registry,
        )
        output: dict[str, Any] | None = None
        error: str | None = None
        try:
            raw_output = tool.handler(context, tool_input)
            model = raw_output if isinstance(raw_output, tool.output_model) else tool.output_model.model_validate(
                raw_output.model_dump() if isinstance(raw_output, BaseModel) else raw_output
            )
            output = model.model_dump(mode="json")
        except ValidationError as exc:
            error = f"{tool.id} returned data that does not match its output schema ({exc.error_count()} problems)."
            logger.error("tool output invalid: %s", exc, extra={"tool_id": tool.id, "call_id": call_id})
        except LynxError as exc:
            error = str(exc)
            level = logging.ERROR if isinstance(exc, KernelError) and not isinstance(exc, KernelNotFoundError) else logging.INFO
            logger.log(level, "tool failed: %s", exc, extra={"tool_id": tool.id, "call_id": call_id, "run_id": run_id})
        except Exception as exc:  # a handler bug must not take the run down
            error = f"{tool.id} failed with an internal error ({type(exc).__name__}). The operations team can find it in the log by call id {call_id}."
            logger.exception("tool crashed", extra={"tool_id": tool.id, "call_id": call_id, "run_id": run_id})

        latency = (time.perf_counter() - started) * 1000
        status = "succeeded" if error is None else "failed"
        event_id = self.audit.append(AuditEvent(
            event_type=f"tool.{status}", tenant_id=actor.tenant_id, actor_id=actor.user_id, run_id=run_id,
            tool_id=tool.id, layer=tool.layer, risk=tool.risk, subject_id=call_id, input=clean_input,
            output=output, error=error, latency_ms=latency,
        ))
        if output and tool.layer is Layer.CLUSTER and output.get("draft_id"):
            self.audit.append(AuditEvent(
                event_type="draft.created", tenant_id=actor.tenant_id, actor_id=actor.user_id, run_id=run_id,
                tool_id=tool.id, layer=tool.layer, risk=tool.risk, subject_id=output["draft_id"],
                output={"title": output.get("title")},
            ))
        logger.info("tool %s %s in %.1f ms", tool.id, status, latency,
                    extra={"tool_id": tool.id, "call_id": call_id, "run_id": run_id, "tenant_id": actor.tenant_id})
        return ToolCallResult(
            call_id=call_id, tool_id=tool.id, layer=tool.layer.value, risk=tool.risk.value, status=status,
            input=clean_input, output=output, error=error, latency_ms=latency, audit_event_id=event_id,
        )

    def _refuse(
        self, actor: Actor, tool: Tool | None, tool_id: str, call_id: str, run_id: str | None,
        tool_input: Any, started: float, decision: Decision,
    ) -> ToolCallResult:
        latency = (time.perf_counter() - started) * 1000
        shown_input = tool_input if isinstance(tool_input, dict) else {"raw": str(tool_input)[:2000]}
        event_id = self.audit.append(AuditEvent(
            event_type="tool.refused", tenant_id=actor.tenant_id, actor_id=actor.user_id, run_id=run_id,
            tool_id=tool_id[:200], layer=tool.layer if tool else None, risk=tool.risk if tool else None,
            subject_id=call_id, input=shown_input, rule=decision.rule, reason=decision.reason,
            alternative=decision.alternative, latency_ms=latency,
            details={"needed": decision.needed} if decision.needed else {},
        ))
        logger.info("tool %s refused by %s", tool_id[:200], decision.rule,
                    extra={"tool_id": tool_id[:200], "call_id": call_id, "run_id": run_id,
                           "tenant_id": actor.tenant_id, "rule": decision.rule})
        return ToolCallResult(
            call_id=call_id, tool_id=tool_id[:200], layer=tool.layer.value if tool else None,
            risk=tool.risk.value if tool else None, status="refused", input=shown_input,
            error=decision.explain(), refusal=decision, latency_ms=latency, audit_event_id=event_id,
        )

"""Audit log: the tenant's runs and events, filters, drill-down, hash-chain status, CSV export."""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from lynx_core.audit.views import AuditFilters, AuditQueries, rows_to_csv
from lynx_core.ui.components import require_actor, services

actor = require_actor()
svc = services()
queries = AuditQueries(svc.audit)

st.title("Audit log")
whole_tenant = queries.sees_whole_tenant(actor)
st.caption(
    "Every Lynx run, tool call, draft, approval decision, execution and refusal, append-only and hash-chained. "
    + ("You see your whole tenant (scope audit:read)." if whole_tenant else "You see your own runs and events.")
)

report = queries.chain_status(actor)
(st.success if report.ok else st.error)(f"{'🔒' if report.ok else '🚨'} {report.summary()}")

users = {u.id: f"{u.display_name} ({u.email})" for u in svc.kernel.list_users(actor.tenant_id)}
tools = [tool.id for tool in svc.registry]
with st.container(border=True):
    cols = st.columns(5)
    user_choice = cols[0].selectbox(
        "User", ["(all)"] + list(users), format_func=lambda v: users.get(v, v), key="audit_user",
        disabled=not whole_tenant,
    )
    tool_choice = cols[1].selectbox("Tool", ["(all)"] + tools, key="audit_tool")
    status_choice = cols[2].selectbox("Run status", ["(all)", "completed", "failed", "blocked"], key="audit_status")
    today = dt.datetime.now(dt.timezone.utc).date()
    since_day = cols[3].date_input("From", value=today - dt.timedelta(days=30), key="audit_since")
    until_day = cols[4].date_input("To", value=today, key="audit_until")

filters = AuditFilters(
    user_id=None if user_choice == "(all)" else user_choice,
    tool_id=None if tool_choice == "(all)" else tool_choice,
    status=None if status_choice == "(all)" else status_choice,
    since=dt.datetime.combine(since_day, dt.time.min, dt.timezone.utc),
    until=dt.datetime.combine(until_day, dt.time.max, dt.timezone.utc),
)

runs = queries.runs(actor, filters)
def render_event(event: dict) -> None:
    """Show one audit event as an expander: who, what, the rule or error, and its data."""
    actor_name = users.get(event["actor_id"], event["actor_id"])
    parts = [event["created_at"][11:23], f"`{event['event_type']}`", actor_name, event["tool_id"], f"`{event['event_id']}`"]
    label = " · ".join(part for part in parts if part)
    with st.expander(label):
        if event["rule"]:
            st.error(f"Rule `{event['rule']}`: {event['reason']}\n\nInstead: {event['alternative'] or '-'}")
        elif event["reason"]:
            st.info(f"Reason: {event['reason']}")
        if event["error"]:
            st.warning(event["error"])
        for field in ("input_json", "output_json", "details_json"):
            if event[field]:
                st.caption(field.removesuffix("_json"))
                st.code(json.dumps(json.loads(event[field]), indent=2, ensure_ascii=False), language="json")
        st.caption(f"layer {event['layer'] or '-'} · risk {event['risk'] or '-'} · "
                   f"latency {event['latency_ms'] or 0:.0f} ms · hash {event['hash'][:16]}…")


run_tab, event_tab = st.tabs([f"Runs ({len(runs)})", "Events"])

with run_tab:
    run_columns = ["run_id", "started_at", "user_id", "status", "query", "tool_calls", "duration_ms", "provider"]
    st.dataframe([{k: r[k] for k in run_columns} for r in runs], hide_index=True, width="stretch", key="runs_table")
    st.download_button("Download runs (CSV)", rows_to_csv(runs), file_name=f"lynx-runs-{actor.tenant_id}.csv",
                       mime="text/csv", key="runs_csv")

    st.subheader("Run details")
    run_ids = [r["run_id"] for r in runs]
    preselected = st.session_state.get("audit_run_id")
    default_index = run_ids.index(preselected) if preselected in run_ids else 0
    chosen = st.selectbox("Run", run_ids, index=default_index if run_ids else None, key="audit_run_choice",
                          format_func=lambda rid: next(f"{r['started_at'][:19]} · {r['query'][:60]}" for r in runs if r["run_id"] == rid) + f" · {rid}")
    if chosen:
        run, events = queries.run_detail(actor, chosen)
        if run is None:
            st.warning("You may not see this run.")
        else:
            st.markdown(f"**Run** `{run['run_id']}` · **user** {users.get(run['user_id'], run['user_id'])} · "
                        f"**started** {run['started_at'][:19]} UTC")
            st.markdown(f"**Question** {run['query']}")
            st.markdown(f"**Status** `{run['status']}` · **provider** {run['provider']} ({run['model']}) · "
                        f"**duration** {run['duration_ms']:.0f} ms · **tool calls** {run['tool_calls']}")
            with st.expander("Answer"):
                st.markdown(run["response"])
            during, later = queries.split_run_events(actor, run, events)
            for event in during:
                render_event(event)
            if later:
                st.markdown("**After the run: approval requests it led to, their decisions and executions**")
                for event in later:
                    render_event(event)

with event_tab:
    events = queries.events(actor, filters)
    event_columns = ["created_at", "event_type", "actor_id", "tool_id", "layer", "risk", "rule", "run_id", "event_id"]
    st.dataframe([{k: e[k] for k in event_columns} for e in events], hide_index=True, width="stretch", key="events_table")
    st.download_button("Download events (CSV)", rows_to_csv(events), file_name=f"lynx-events-{actor.tenant_id}.csv",
                       mime="text/csv", key="events_csv")

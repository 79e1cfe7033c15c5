# Isolation: one tenant must not see, write or be written by another.
#
# Evaluated as data arrives (streamed), on one of two inputs:
#
#   An audit event, after it is chained:
#     {"kind": "audit_event", "tenant": "<owner>", "event": {id, time, actor: {id, type,
#      tenant_id}, action, target: {type, id, tenant_id}, outcome, region, ticket,
#      attributes: {...}}}
#
#   The summary of one ingest request (OTLP or audit batch):
#     {"kind": "ingest_summary", "tenant": "<tenant of the token>", "request_id": "...",
#      "signal": "traces|metrics|logs|audit", "token": "<token name>",
#      "token_tenants": [tenants the token may write for],
#      "claimed_tenants": [tenant.id values the request carried],
#      "records": n, "records_without_tenant": n, "services_without_tenant": ["svc", ...],
#      "redacted_tenants": {"<owner of a redacted identifier>": count},
#      "redactions": {"<class>": count}, "regions": ["..."], "trace_ids": [sample]}
#
# data.tenantscope.registry.multi_tenant_services lists the services that serve several
# tenants: their telemetry must always say which tenant it is for.
package tenantscope.isolation

import data.tenantscope.lib
import rego.v1

policy := "isolation"

# Streamed: evaluated on every audit event and every ingest request summary.
evaluated_on := {"audit_event", "ingest_summary"}

tenant_id := input.tenant

tenant := lib.tenant(tenant_id)

event := input.event if input.kind == "audit_event"

summary := input if input.kind == "ingest_summary"

# ---- audit events ----

# An actor without a home tenant is platform staff or automation. Support staff stand outside
# every tenant ("platform"); automation (system, service) acts for the tenant it serves.
actor_home := object.get(event.actor, "tenant_id", "")

actor_tenant := actor_home if actor_home != ""

actor_tenant := "platform" if {
	actor_home == ""
	event.actor.type == "support"
}

actor_tenant := tenant_id if {
	actor_home == ""
	event.actor.type != "support"
}

target_tenant := t if {
	t := object.get(event.target, "tenant_id", "")
	t != ""
} else := tenant_id

# A support engineer may act across tenants only under a ticket the owning tenant approved,
# and only inside that ticket's window.
approved_support if {
	event.action == "support.access"
	ticket := object.get(event, "ticket", "")
	ticket != ""
	some approval in object.get(tenant, "support_tickets", [])
	approval.ticket == ticket
	t := time.parse_rfc3339_ns(event.time)
	t >= time.parse_rfc3339_ns(approval.from)
	t < time.parse_rfc3339_ns(approval.until)
}

violations contains lib.finding(
	policy, "cross_tenant_access", "critical", tenant_id, event.id,
	sprintf("%s of tenant %s performed %s on %s %s of tenant %s", [event.actor.id, actor_tenant, event.action, event.target.type, event.target.id, target_tenant]),
	{"event_ids": [event.id], "actor_tenant": actor_tenant, "target_tenant": target_tenant, "ticket": object.get(event, "ticket", "")},
) if {
	actor_tenant != target_tenant
	not approved_support
}

violations contains lib.finding(
	policy, "export_without_approval", "high", tenant_id, event.id,
	sprintf("export of %s %s without an approval", [event.target.type, event.target.id]),
	{"event_ids": [event.id], "actor": event.actor.id},
) if {
	event.action == "data.export"
	event.outcome == "success"
	object.get(object.get(event, "attributes", {}), "approval", "") == ""
}

# A grant names its grantee in attributes.grantee_tenant (the tenant of the identity).
violations contains lib.finding(
	policy, "foreign_privilege_grant", "critical", tenant_id, event.id,
	sprintf("%s granted %s on %s to an identity of tenant %s", [event.actor.id, object.get(event.attributes, "role", "a role"), event.target.id, grantee]),
	{"event_ids": [event.id], "grantee": object.get(event.attributes, "grantee", ""), "grantee_tenant": grantee},
) if {
	event.action == "privilege.grant"
	grantee := object.get(event.attributes, "grantee_tenant", tenant_id)
	grantee != tenant_id
}

violations contains lib.finding(
	policy, "residency", "high", tenant_id, event.id,
	sprintf("event %s in region %s; %s allows %v", [event.id, event.region, tenant_id, tenant.allowed_regions]),
	{"event_ids": [event.id], "region": event.region, "allowed_regions": tenant.allowed_regions},
) if {
	object.get(event, "region", "") != ""
	not event.region in tenant.allowed_regions
}

# ---- ingest requests ----

violations contains lib.finding(
	policy, "foreign_tenant_write", "critical", tenant_id, sprintf("%s->%s", [summary.token, claimed]),
	sprintf("token %s wrote %s data claiming tenant %s, which it may not write for", [summary.token, summary.signal, claimed]),
	{"request_ids": [summary.request_id], "claimed_tenant": claimed, "token": summary.token, "trace_ids": object.get(summary, "trace_ids", [])},
) if {
	some claimed in summary.claimed_tenants
	not claimed in summary.token_tenants
}

violations contains lib.finding(
	policy, "missing_tenant_context", "high", tenant_id, service,
	sprintf("%d %s records of multi-tenant service %s arrived without tenant.id", [summary.records_without_tenant, summary.signal, service]),
	{"request_ids": [summary.request_id], "records": summary.records_without_tenant, "service": service},
) if {
	summary.records_without_tenant > 0
	some service in summary.services_without_tenant
	service in object.get(lib.registry, "multi_tenant_services", [])
}

violations contains lib.finding(
	policy, "cross_tenant_identifier_redacted", "medium", tenant_id, owner,
	sprintf("%d identifiers of tenant %s were redacted from %s data of %s", [n, owner, summary.signal, tenant_id]),
	{"request_ids": [summary.request_id], "count": n, "identifier_owner": owner, "trace_ids": object.get(summary, "trace_ids", [])},
) if {
	some owner, n in object.get(summary, "redacted_tenants", {})
	owner != tenant_id
	n > 0
}

violations contains lib.finding(
	policy, "residency", "high", tenant_id, sprintf("%s:%s", [summary.signal, region]),
	sprintf("%s data from region %s; %s allows %v", [summary.signal, region, tenant_id, tenant.allowed_regions]),
	{"request_ids": [summary.request_id], "region": region, "allowed_regions": tenant.allowed_regions},
) if {
	some region in object.get(summary, "regions", [])
	region != ""
	not region in tenant.allowed_regions
}

# Benchmark policy: 20 isolation rules over one audit event, written the way a platform's
# security team would (helpers, partial sets, sprintf messages). The registry is data, loaded
# once; each evaluation's input is one event and the tenant it was ingested for:
#   input: {"tenant": "<id>", "event": <audit event>}
#   data.registry: {"tenants": {id: {id, allowed_regions}}, "identifiers": {id: [...]}, "approvals": [...]}
package bench.isolation

import rego.v1

sensitive_actions := {"data.export", "privilege.grant", "config.change", "key.rotate", "support.access"}

high_risk_targets := {"dataset", "bucket", "database", "kms_key"}

event := input.event

tenant := data.registry.tenants[input.tenant]

actor_tenant := object.get(event.actor, "tenant_id", "")

target_tenant := object.get(event.target, "tenant_id", "")

foreign_actor if {
	actor_tenant != ""
	actor_tenant != tenant.id
}

foreign_target if {
	target_tenant != ""
	target_tenant != tenant.id
}

approved_ticket if {
	some approval in data.registry.approvals
	approval.ticket == event.ticket
	approval.tenant == tenant.id
	approval.expires_ns > time.parse_rfc3339_ns(event.time)
}

support_window_ok if {
	event.action == "support.access"
	approved_ticket
}

violation(rule, severity, message) := {
	"policy": "isolation",
	"rule": rule,
	"severity": severity,
	"tenant": tenant.id,
	"message": message,
	"evidence": {"event_ids": [event.id]},
}

violations contains violation("cross_tenant_actor", "high", sprintf("actor %s of tenant %s acted on %s", [event.actor.id, actor_tenant, tenant.id])) if {
	foreign_actor
	not support_window_ok
}

violations contains violation("cross_tenant_target", "critical", sprintf("%s on %s/%s of tenant %s", [event.action, event.target.type, event.target.id, target_tenant])) if {
	foreign_target
}

violations contains violation("export_without_approval", "high", sprintf("export of %s without approval", [event.target.id])) if {
	event.action == "data.export"
	not event.attributes.approval
}

violations contains violation("privilege_grant_foreign", "critical", "privilege granted to another tenant's identity") if {
	event.action == "privilege.grant"
	grantee_tenant := object.get(event.attributes, "grantee_tenant", tenant.id)
	grantee_tenant != tenant.id
}

violations contains violation("residency", "high", sprintf("event in region %s, allowed %v", [event.region, tenant.allowed_regions])) if {
	event.region != ""
	not event.region in tenant.allowed_regions
}

violations contains violation("support_without_ticket", "medium", "support access without a ticket") if {
	event.action == "support.access"
	object.get(event, "ticket", "") == ""
}

violations contains violation("denied_sensitive", "low", sprintf("denied %s", [event.action])) if {
	event.outcome == "denied"
	event.action in sensitive_actions
}

violations contains violation("identifier_in_attributes", "high", sprintf("attribute %s names tenant %s", [k, owner])) if {
	some k, v in event.attributes
	some owner, ids in data.registry.identifiers
	owner != tenant.id
	some id in ids
	contains(lower(v), lower(id))
}

violations contains violation("high_risk_target_export", "medium", sprintf("export of %s %s", [event.target.type, event.target.id])) if {
	event.action == "data.export"
	event.target.type in high_risk_targets
	to_number(object.get(event.attributes, "rows", "0")) > 100000
}

violations contains violation("system_actor_export", "medium", "a system actor exported data") if {
	event.actor.type == "system"
	event.action == "data.export"
}

violations contains violation("source_ip_private_for_support", "low", "support access from a private address") if {
	event.action == "support.access"
	net.cidr_contains("10.0.0.0/8", event.source_ip)
}

violations contains violation("key_rotate_failed", "medium", "key rotation failed") if {
	event.action == "key.rotate"
	event.outcome == "failure"
}

violations contains violation("config_change_unticketed", "low", "config change without a ticket") if {
	event.action == "config.change"
	not event.ticket
}

violations contains violation("future_event", "low", "event time is in the future") if {
	time.parse_rfc3339_ns(event.time) > time.now_ns() + 300000000000
}

violation_count := count(violations)

allow if violation_count == 0

package tenantscope.isolation_test

import data.tenantscope.isolation
import data.tenantscope.testdata as td
import rego.v1

findings(inp) := vs if {
	vs := isolation.violations with input as inp with data.tenantscope.registry as td.registry
}

test_ordinary_event_is_clean if count(findings(td.audit(td.event))) == 0

test_ordinary_ingest_is_clean if count(findings(td.summary)) == 0

test_cross_tenant_actor_is_critical if {
	e := json.patch(td.event, [{"op": "replace", "path": "/actor/tenant_id", "value": "hooli-wholesale"}])
	vs := findings(td.audit(e))
	td.rules(vs) == {"cross_tenant_access"}
	some v in vs
	v.severity == "critical"
	v.tenant == "acme-dist"
	v.evidence.event_ids == ["evt-1"]
}

test_support_access_without_ticket_is_cross_tenant if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/actor", "value": {"id": "s-9", "type": "support", "tenant_id": "platform"}},
		{"op": "replace", "path": "/action", "value": "support.access"},
	])
	td.rules(findings(td.audit(e))) == {"cross_tenant_access"}
}

test_support_access_with_approved_ticket_in_window_is_allowed if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/actor", "value": {"id": "s-9", "type": "support", "tenant_id": "platform"}},
		{"op": "replace", "path": "/action", "value": "support.access"},
		{"op": "add", "path": "/ticket", "value": "SUP-7"},
	])
	count(findings(td.audit(e))) == 0
}

test_support_access_outside_the_window_is_cross_tenant if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/actor", "value": {"id": "s-9", "type": "support", "tenant_id": "platform"}},
		{"op": "replace", "path": "/action", "value": "support.access"},
		{"op": "add", "path": "/ticket", "value": "SUP-7"},
		{"op": "replace", "path": "/time", "value": "2026-11-22T10:00:00Z"},
	])
	td.rules(findings(td.audit(e))) == {"cross_tenant_access"}
}

test_platform_support_without_a_home_tenant_is_cross_tenant if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/actor", "value": {"id": "s-9", "type": "support", "tenant_id": ""}},
		{"op": "replace", "path": "/action", "value": "support.access"},
	])
	some v in findings(td.audit(e))
	v.rule == "cross_tenant_access"
	v.evidence.actor_tenant == "platform"
}

test_automation_without_a_home_tenant_acts_for_its_tenant if {
	e := json.patch(td.event, [{"op": "replace", "path": "/actor", "value": {"id": "retention-job", "type": "system", "tenant_id": ""}}])
	count(findings(td.audit(e))) == 0
}

test_export_without_approval if {
	e := json.patch(td.event, [{"op": "replace", "path": "/action", "value": "data.export"}])
	td.rules(findings(td.audit(e))) == {"export_without_approval"}
}

test_export_with_approval_is_clean if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/action", "value": "data.export"},
		{"op": "replace", "path": "/attributes", "value": {"approval": "CHG-12"}},
	])
	count(findings(td.audit(e))) == 0
}

test_grant_to_another_tenants_identity if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/action", "value": "privilege.grant"},
		{"op": "replace", "path": "/attributes", "value": {"grantee": "u-77", "grantee_tenant": "hooli-wholesale", "role": "admin"}},
	])
	td.rules(findings(td.audit(e))) == {"foreign_privilege_grant"}
}

test_grant_inside_the_tenant_is_clean if {
	e := json.patch(td.event, [
		{"op": "replace", "path": "/action", "value": "privilege.grant"},
		{"op": "replace", "path": "/attributes", "value": {"grantee": "u-2", "grantee_tenant": "acme-dist", "role": "viewer"}},
	])
	count(findings(td.audit(e))) == 0
}

test_event_outside_allowed_regions if {
	e := json.patch(td.event, [{"op": "replace", "path": "/region", "value": "eu-central-1"}])
	vs := findings(td.audit(e))
	td.rules(vs) == {"residency"}
	some v in vs
	v.evidence.region == "eu-central-1"
}

test_token_claiming_another_tenant if {
	s := json.patch(td.summary, [{"op": "replace", "path": "/claimed_tenants", "value": ["acme-dist", "hooli-wholesale"]}])
	vs := findings(s)
	td.rules(vs) == {"foreign_tenant_write"}
	some v in vs
	v.evidence.claimed_tenant == "hooli-wholesale"
}

test_multi_tenant_token_claiming_its_tenants_is_clean if {
	s := json.patch(td.summary, [
		{"op": "replace", "path": "/token_tenants", "value": ["acme-dist", "hooli-wholesale"]},
		{"op": "replace", "path": "/claimed_tenants", "value": ["acme-dist", "hooli-wholesale"]},
	])
	count(findings(s)) == 0
}

test_multi_tenant_service_without_tenant_context if {
	s := json.patch(td.summary, [
		{"op": "replace", "path": "/records_without_tenant", "value": 4},
		{"op": "replace", "path": "/services_without_tenant", "value": ["order-api"]},
	])
	td.rules(findings(s)) == {"missing_tenant_context"}
}

test_single_tenant_service_without_tenant_context_is_clean if {
	s := json.patch(td.summary, [
		{"op": "replace", "path": "/records_without_tenant", "value": 4},
		{"op": "replace", "path": "/services_without_tenant", "value": ["acme-wms"]},
	])
	count(findings(s)) == 0
}

test_redacted_identifier_of_another_tenant if {
	s := json.patch(td.summary, [{"op": "replace", "path": "/redacted_tenants", "value": {"hooli-wholesale": 2}}])
	vs := findings(s)
	td.rules(vs) == {"cross_tenant_identifier_redacted"}
	some v in vs
	v.evidence.count == 2
}

test_redaction_of_own_identifiers_is_clean if {
	s := json.patch(td.summary, [{"op": "replace", "path": "/redacted_tenants", "value": {"acme-dist": 5}}])
	count(findings(s)) == 0
}

test_ingest_from_a_region_outside_the_allowed if {
	s := json.patch(td.summary, [{"op": "replace", "path": "/regions", "value": ["us-east-1", "ap-south-1"]}])
	td.rules(findings(s)) == {"residency"}
}

package tenantscope.retention_test

import data.tenantscope.retention
import data.tenantscope.testdata as td
import rego.v1

# A registry where one tenant's setting is replaced.
with_tenant(id, path, value) := json.patch(td.registry, [{"op": "add", "path": sprintf("/tenants/%s/%s", [id, path]), "value": value}])

findings(reg, inp) := vs if {
	vs := retention.violations with input as inp with data.tenantscope.registry as reg
}

now := {"kind": "scheduled", "now": "2026-11-22T00:00:00Z", "stored": {}}

stored(id, class, oldest) := json.patch(now, [{"op": "add", "path": "/stored", "value": {id: {class: {"oldest": oldest, "rows": 120}}}}])

test_configured_retentions_within_limits_are_clean if count(findings(td.registry, now)) == 0

test_audit_events_below_the_framework_year if {
	reg := with_tenant("acme-dist", "retention/audit_events", 200)
	vs := findings(reg, now)
	td.rules(vs) == {"retention_below_minimum"}
	some v in vs
	v.tenant == "acme-dist"
	v.subject == "audit_events"
	v.evidence.minimum_days == 365
}

test_segmented_tier_minimum_is_above_the_framework if {
	reg := with_tenant("umbrella-pharma", "retention/audit_events", 400)
	some v in findings(reg, now)
	v.rule == "retention_below_minimum"
	v.evidence.minimum_days == 730
}

test_spans_above_the_minimisation_maximum if {
	reg := with_tenant("hooli-wholesale", "retention/spans", 365)
	vs := findings(reg, now)
	td.rules(vs) == {"retention_above_maximum"}
	some v in vs
	v.evidence.maximum_days == 90
}

test_stored_rows_older_than_retention if {
	vs := findings(td.registry, stored("acme-dist", "spans", "2026-09-01T00:00:00Z"))
	td.rules(vs) == {"retention_not_enforced"}
	some v in vs
	v.subject == "spans"
	v.evidence.rows == 120
}

test_stored_rows_inside_retention_and_grace_are_clean if {
	# 31 days old with a 30-day retention: inside the 2-day grace.
	count(findings(td.registry, stored("acme-dist", "spans", "2026-10-22T00:00:00Z"))) == 0
}

test_legal_hold_suppresses_deletion_findings_and_raises_a_notice if {
	reg := with_tenant("acme-dist", "legal_hold", true)
	vs := findings(reg, stored("acme-dist", "spans", "2026-01-01T00:00:00Z"))
	td.rules(vs) == {"legal_hold_active"}
	some v in vs
	v.severity == "info"
	v.evidence.classes == ["spans"]
}

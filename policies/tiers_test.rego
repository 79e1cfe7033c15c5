package tenantscope.tiers_test

import data.tenantscope.testdata as td
import data.tenantscope.tiers
import rego.v1

findings(reg, inp) := vs if {
	vs := tiers.violations with input as inp with data.tenantscope.registry as reg
}

patched(ops) := json.patch(td.registry, ops)

scheduled := {"kind": "scheduled", "now": "2026-11-22T00:00:00Z"}

test_registry_meeting_its_tiers_is_clean if count(findings(td.registry, scheduled)) == 0

test_segmented_tenant_without_its_own_key if {
	vs := findings(patched([{"op": "remove", "path": "/tenants/umbrella-pharma/encryption_key_id"}]), scheduled)
	td.rules(vs) == {"per_tenant_key_missing"}
}

test_eu_residency_with_a_us_region if {
	vs := findings(patched([{"op": "replace", "path": "/tenants/umbrella-pharma/allowed_regions", "value": ["eu-central-1", "us-east-1"]}]), scheduled)
	td.rules(vs) == {"eu_residency_region"}
	some v in vs
	v.subject == "us-east-1"
}

test_shared_tenant_without_quota if {
	vs := findings(patched([{"op": "replace", "path": "/tenants/hooli-wholesale/quotas", "value": {}}]), scheduled)
	td.rules(vs) == {"shared_tier_without_quota"}
	some v in vs
	v.tenant == "hooli-wholesale"
}

test_one_key_configured_for_two_tenants if {
	vs := findings(patched([{"op": "add", "path": "/tenants/hooli-wholesale/encryption_key_id", "value": "kms-umbrella-1"}]), scheduled)
	td.rules(vs) == {"shared_key"}
	{v.tenant | some v in vs} == {"hooli-wholesale", "umbrella-pharma"}
}

test_one_credential_seen_for_two_tenants if {
	inp := json.patch(scheduled, [{"op": "add", "path": "/key_usage", "value": {"cred-9": ["acme-dist", "hooli-wholesale"]}}])
	vs := findings(td.registry, inp)
	td.rules(vs) == {"shared_key"}
	count(vs) == 2
}

test_a_credential_seen_for_one_tenant_is_clean if {
	inp := json.patch(scheduled, [{"op": "add", "path": "/key_usage", "value": {"cred-9": ["acme-dist"], "kms-umbrella-1": ["umbrella-pharma"]}}])
	count(findings(td.registry, inp)) == 0
}

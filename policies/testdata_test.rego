# Registry and inputs shared by the policy tests: two shared-tier tenants and one segmented,
# as tenantscope builds data.tenantscope.registry from a registry file. Recovery objectives
# are effective ones: the shared tier's for acme-dist and hooli-wholesale; the segmented
# tier's for umbrella-pharma, whose contract adds a DR region.
package tenantscope.testdata

import rego.v1

registry := {
	"multi_tenant_services": ["order-api", "inventory-svc"],
	"tiers": {
		"shared": {"retention_min_days": {"spans": 7, "audit_events": 365}, "retention_max_days": {"spans": 90, "audit_events": 2555}},
		"segmented": {"retention_min_days": {"spans": 14, "audit_events": 730}, "retention_max_days": {"spans": 180, "audit_events": 3650}},
	},
	"tenants": {
		"acme-dist": {
			"id": "acme-dist", "tier": "shared", "region": "us-east-1", "allowed_regions": ["us-east-1", "us-west-2"],
			"retention": {"spans": 30, "audit_events": 400}, "legal_hold": false,
			"quotas": {"events_per_second": 5000}, "controls": ["ingest_quota"],
			"recovery": {"rpo_minutes": 60, "rto_minutes": 240, "restore_test_days": 90, "backup_retention_days": 30, "components": ["database", "object_storage", "config"], "dr_region_required": false},
			"support_tickets": [{"ticket": "SUP-7", "from": "2026-11-20T00:00:00Z", "until": "2026-11-21T00:00:00Z"}],
		},
		"hooli-wholesale": {
			"id": "hooli-wholesale", "tier": "shared", "region": "us-west-2", "allowed_regions": ["us-west-2"],
			"retention": {"spans": 14, "audit_events": 365}, "legal_hold": false,
			"quotas": {"events_per_second": 5000}, "controls": ["ingest_quota"],
			"recovery": {"rpo_minutes": 60, "rto_minutes": 240, "restore_test_days": 90, "backup_retention_days": 30, "components": ["database", "object_storage", "config"], "dr_region_required": false},
		},
		"umbrella-pharma": {
			"id": "umbrella-pharma", "tier": "segmented", "region": "eu-central-1", "allowed_regions": ["eu-central-1", "eu-west-1"],
			"retention": {"spans": 30, "audit_events": 3650}, "legal_hold": false,
			"quotas": {"events_per_second": 20000}, "controls": ["ingest_quota", "per_tenant_key", "eu_residency"],
			"encryption_key_id": "kms-umbrella-1",
			"recovery": {"rpo_minutes": 30, "rto_minutes": 120, "restore_test_days": 30, "backup_retention_days": 35, "components": ["database", "object_storage", "queue", "config", "integration_state"], "dr_region_required": true},
		},
	},
}

# An ordinary audit event of acme-dist: findings come from changing one thing in it.
event := {
	"id": "evt-1", "time": "2026-11-20T10:00:00Z",
	"actor": {"id": "u-1", "type": "user", "tenant_id": "acme-dist"},
	"action": "data.read", "target": {"type": "dataset", "id": "orders", "tenant_id": "acme-dist"},
	"outcome": "success", "region": "us-east-1", "attributes": {},
}

audit(e) := {"kind": "audit_event", "tenant": "acme-dist", "event": e}

# An ordinary ingest request of acme-dist's own token.
summary := {
	"kind": "ingest_summary", "tenant": "acme-dist", "request_id": "req-1", "signal": "traces",
	"token": "acme-dist ingest", "token_tenants": ["acme-dist"], "claimed_tenants": ["acme-dist"],
	"records": 10, "records_without_tenant": 0, "services_without_tenant": [],
	"redacted_tenants": {}, "redactions": {}, "regions": ["us-east-1"], "trace_ids": ["t1"],
}

# Rules of a finding set, for compact assertions.
rules(vs) := {v.rule | some v in vs}

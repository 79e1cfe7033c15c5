# Tiers: what each tier promises, checked against the registry (scheduled, like retention;
# input as in retention.rego, of which this package reads `key_usage`):
#
#   {"kind": "scheduled", "now": "...", "key_usage": {"<key or credential id>": ["<tenant>", ...]}}
#
# key_usage lists, per encryption key or credential id seen in stored audit events
# (attributes key_id / credential_id), the tenants it was seen for.
package tenantscope.tiers

import data.tenantscope.lib
import rego.v1

policy := "tiers"

# Scheduled, with retention.
evaluated_on := {"scheduled"}

controls(t) := {c | some c in object.get(t, "controls", [])}

# Segmented and dedicated tenants are promised their own encryption key.
violations contains lib.finding(
	policy, "per_tenant_key_missing", "high", id, "encryption_key_id",
	sprintf("%s is on tier %s, which requires a per-tenant key, and has none", [id, t.tier]),
	{"tier": t.tier},
) if {
	some id, t in lib.tenants
	"per_tenant_key" in controls(t)
	object.get(t, "encryption_key_id", "") == ""
}

# EU residency: every region the tenant's data may live in is in the EU.
violations contains lib.finding(
	policy, "eu_residency_region", "critical", id, region,
	sprintf("%s requires EU residency but allows region %s", [id, region]),
	{"allowed_regions": t.allowed_regions, "region": region},
) if {
	some id, t in lib.tenants
	"eu_residency" in controls(t)
	some region in array.concat([t.region], t.allowed_regions)
	not lib.eu_region(region)
}

# The shared tier relies on quotas to keep a noisy tenant from starving the others.
violations contains lib.finding(
	policy, "shared_tier_without_quota", "high", id, "quotas",
	sprintf("%s is on the shared tier without an ingest quota", [id]),
	{"quotas": object.get(t, "quotas", {})},
) if {
	some id, t in lib.tenants
	t.tier == "shared"
	object.get(object.get(t, "quotas", {}), "events_per_second", 0) <= 0
}

# One key or credential serving two tenants breaks isolation at the storage layer.
violations contains lib.finding(
	policy, "shared_key", "critical", id, key,
	sprintf("key %s is used by %s and also by %v", [key, id, [o | some o in owners; o != id]]),
	{"key_id": key, "tenants": owners},
) if {
	some key, owners in key_owners
	count(owners) > 1
	some id in owners
}

# Keys by the tenants they serve: configured keys plus those seen in stored events.
key_owners[key] := owners if {
	some key in {k | some t in lib.tenants; k := object.get(t, "encryption_key_id", ""); k != ""} | {k | some k, _ in object.get(input, "key_usage", {})}
	configured := {id | some id, t in lib.tenants; object.get(t, "encryption_key_id", "") == key}
	seen := {id | some id in object.get(object.get(input, "key_usage", {}), key, [])}
	owners := sort(configured | seen)
}

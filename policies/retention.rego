# Retention: each tenant keeps each data class at least as long as its tier and the
# frameworks require, no longer than data minimisation allows, and what it stores really
# expires. Scheduled: evaluated on an interval over
#
#   {"kind": "scheduled", "now": "<RFC 3339>",
#    "stored": {"<tenant>": {"<data class>": {"oldest": "<RFC 3339>", "rows": n}}}}
#
# (the oldest stored row per tenant and class, read from ClickHouse) and the registry, where
# each tenant carries its effective `retention` (days per class, tier minimum where not set)
# and `legal_hold`.
package tenantscope.retention

import data.tenantscope.lib
import rego.v1

policy := "retention"

# Scheduled: evaluated on the interval input described above.
evaluated_on := {"scheduled"}

# Frameworks' minimums over every tier: audit trails are kept a year (SOC 2, ISO 27001).
framework_min_days := {"audit_events": 365}

# Stored rows may outlive their retention by this long before it counts as a failure:
# ClickHouse drops expired parts in the background, not to the second.
grace_days := 2

ns_per_day := 86400000000000

# The minimum a tenant must keep a class: the larger of its tier's and the frameworks'.
min_days(t, class) := max({object.get(object.get(object.get(lib.tiers, t.tier, {}), "retention_min_days", {}), class, 0), object.get(framework_min_days, class, 0)})

max_days(t, class) := object.get(object.get(object.get(lib.tiers, t.tier, {}), "retention_max_days", {}), class, 0)

violations contains lib.finding(
	policy, "retention_below_minimum", "high", id, class,
	sprintf("%s keeps %s for %d days; at least %d required (tier %s)", [id, class, days, need, t.tier]),
	{"class": class, "configured_days": days, "minimum_days": need, "tier": t.tier},
) if {
	some id, t in lib.tenants
	some class, days in object.get(t, "retention", {})
	need := min_days(t, class)
	days < need
}

violations contains lib.finding(
	policy, "retention_above_maximum", "medium", id, class,
	sprintf("%s keeps %s for %d days; data minimisation allows at most %d (tier %s)", [id, class, days, limit, t.tier]),
	{"class": class, "configured_days": days, "maximum_days": limit, "tier": t.tier},
) if {
	some id, t in lib.tenants
	some class, days in object.get(t, "retention", {})
	limit := max_days(t, class)
	limit > 0
	days > limit
}

# Stored data older than the retention allows: the TTL is not effective. A legal hold
# suspends deletion, so the hold's own notice replaces this finding.
violations contains lib.finding(
	policy, "retention_not_enforced", "high", id, class,
	sprintf("%s has %s rows from %s, older than its %d-day retention", [id, class, stored.oldest, days]),
	{"class": class, "oldest": stored.oldest, "rows": object.get(stored, "rows", 0), "retention_days": days, "age_days": age_days},
) if {
	some id, classes in object.get(input, "stored", {})
	t := lib.tenant(id)
	not t.legal_hold
	some class, stored in classes
	days := t.retention[class]
	age_days := (time.parse_rfc3339_ns(input.now) - time.parse_rfc3339_ns(stored.oldest)) / ns_per_day
	age_days > days + grace_days
}

violations contains lib.finding(
	policy, "legal_hold_active", "info", id, "legal_hold",
	sprintf("%s is under legal hold: no data expires until the hold is lifted", [id]),
	{"classes": sort(object.keys(object.get(object.get(input, "stored", {}), id, {})))},
) if {
	some id, t in lib.tenants
	t.legal_hold
}

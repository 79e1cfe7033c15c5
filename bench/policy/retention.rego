# Benchmark policy: retention checks, comprehension-heavy. Input:
#   {"tenants": [{id, tier, retention: {class: days}, legal_hold}], "tiers": {tier: {min: {...}, max: {...}}},
#    "oldest": {tenant: {class: age_days}}}
package bench.retention

import rego.v1

classes := ["spans", "logs", "metric_points", "audit_events"]

configured := {t.id: {c: object.get(t.retention, c, 0) | some c in classes} | some t in input.tenants}

below_minimum := {[t.id, c]: {"configured": d, "minimum": m} |
	some t in input.tenants
	some c in classes
	d := configured[t.id][c]
	m := input.tiers[t.tier].min[c]
	d < m
}

above_maximum := {[t.id, c] |
	some t in input.tenants
	not t.legal_hold
	some c in classes
	configured[t.id][c] > input.tiers[t.tier].max[c]
}

expired_kept := [{"tenant": id, "class": c, "age_days": age} |
	some id, by_class in input.oldest
	some c, age in by_class
	age > configured[id][c]
	not legal_hold[id]
]

legal_hold := {t.id: true | some t in input.tenants; t.legal_hold}

findings := count(below_minimum) + count(above_maximum) + count(expired_kept)

# Recovery: each tenant's backups, restore tests and failover tests meet the recovery
# objectives it was promised. Evaluated on one document per period [from, to), built by
# tenantscope from the backup and test events:
#
#   {"kind": "recovery", "now": "<RFC 3339>", "from": "<RFC 3339>", "to": "<RFC 3339>",
#    "tenants": {"<tenant>": {
#      "components": {"<component>": {
#        "latest": {completed, snapshot, age_minutes, scope, event_id},
#        "backups": n, "stale": [{from, to, minutes, max_age_minutes}], "keys": ["<key id>"],
#        "min_retention_days": n, "regions": ["<region>"],
#        "failures": [{time, event_id, next_success_minutes}]}},
#      "restore_test": {time, outcome, duration_seconds, component, location_region, age_days, event_id},
#      "failover_tests": n, "failover_test": {same shape as restore_test},
#      "failover_regions": ["<region>"]}}}
#
# A component (database, object_storage, queue, config, integration_state) is missing from
# `components` when nothing at all is known of it. `latest` is its newest successful backup
# completed by `to` (with the snapshot's age at `to`, and whether it was the tenant's own or a
# platform backup covering it); it is missing when the component was never backed up. The other
# fields describe the period only: `backups` counts its successful backups, `stale` lists the
# stretches in which no restorable backup was younger than the RPO (each with the oldest the
# newest snapshot got), `keys` and `regions` are the encryption key ids ("" for none) and the
# locations of its successful backups, `min_retention_days` the shortest retention among them
# (missing when there were none), and `failures` its failed backups, each with the minutes until
# the component's next successful backup (-1 while there has been none). `restore_test` is the
# latest tenant-scope restore test by `to` (age in days at `to`), missing if there never was
# one; `failover_tests` counts the successful failover tests by `to`, `failover_test` is the
# latest one (missing if none) and `failover_regions` the regions failover tests ran in during
# the period.
#
# The objectives come from the registry: each tenant's effective `recovery` (its tier's, with
# its contract terms) gives rpo_minutes, rto_minutes, restore_test_days, backup_retention_days,
# the required `components` and dr_region_required. Only tenants both in the input and in the
# registry with recovery objectives are judged. The RPO and presence rules (stale backups, never
# backed up, unrecovered failures) concern the required components; the rules on how backups are
# kept (key, retention, region) apply to every backup the tenant has.
package tenantscope.recovery

import data.tenantscope.lib
import rego.v1

policy := "recovery"

# Per period: evaluated on the recovery input described above.
evaluated_on := {"recovery"}

# The tenants judged, with their facts, registry entry and objectives.
judged[id] := {"facts": facts, "tenant": t, "objectives": t.recovery} if {
	some id, facts in object.get(input, "tenants", {})
	t := lib.tenant(id)
	is_object(t.recovery)
}

components(facts) := object.get(facts, "components", {})

required(j) := {c | some c in j.objectives.components}

controls(t) := {c | some c in object.get(t, "controls", [])}

# A component with a successful backup on record.
backed_up(facts, component) if is_object(components(facts)[component].latest)

# ---- backups of the required components ----

# The newest restorable backup got older than the RPO during the period.
violations contains lib.finding(
	policy, "backup_older_than_rpo", "high", id, component,
	sprintf("%s: %s had no restorable backup younger than its %v-minute RPO for %v minutes in %d window(s); the newest snapshot reached %v minutes", [id, component, rpo, stale_minutes, count(windows), oldest]),
	{"component": component, "rpo_minutes": rpo, "windows": windows, "stale_minutes": stale_minutes, "max_age_minutes": oldest, "latest": c.latest},
) if {
	some id, j in judged
	some component in required(j)
	c := components(j.facts)[component]
	is_object(c.latest)
	rpo := j.objectives.rpo_minutes
	windows := [w | some w in object.get(c, "stale", []); w.max_age_minutes > rpo]
	count(windows) > 0
	stale_minutes := sum([w.minutes | some w in windows])
	oldest := max([w.max_age_minutes | some w in windows])
}

# A required component without any successful backup at all (absent, or present without one).
violations contains lib.finding(
	policy, "component_never_backed_up", "high", id, component,
	sprintf("%s: required component %s has never been backed up", [id, component]),
	{"component": component, "required_components": sort(required(j)), "backed_up_components": sort([x | some x, _ in components(j.facts); backed_up(j.facts, x)])},
) if {
	some id, j in judged
	some component in required(j)
	not backed_up(j.facts, component)
}

# Failed backups not followed by a success within the RPO (or not at all yet).
violations contains lib.finding(
	policy, "backup_failure_unrecovered", "high", id, component,
	sprintf("%s: %d failed backup(s) of %s (%s) not followed by a successful one within the %v-minute RPO", [id, count(late), component, concat(", ", [f.event_id | some f in late]), rpo]),
	{"component": component, "rpo_minutes": rpo, "failures": late, "event_ids": [f.event_id | some f in late]},
) if {
	some id, j in judged
	some component in required(j)
	c := components(j.facts)[component]
	rpo := j.objectives.rpo_minutes
	late := [f | some f in object.get(c, "failures", []); not_recovered_in_time(f, rpo)]
	count(late) > 0
}

not_recovered_in_time(f, _) if f.next_success_minutes < 0

not_recovered_in_time(f, rpo) if f.next_success_minutes > rpo

# ---- how every backup is kept ----

# A tenant promised its own key has backups under another key, or unencrypted ("").
violations contains lib.finding(
	policy, "backup_key_not_tenant_key", "high", id, component,
	sprintf("%s: backups of %s used key(s) %v; the tenant's own key is %q", [id, component, wrong, expected]),
	{"component": component, "expected_key": expected, "keys": sort(seen), "wrong_keys": wrong},
) if {
	some id, j in judged
	"per_tenant_key" in controls(j.tenant)
	expected := object.get(j.tenant, "encryption_key_id", "")
	some component, c in components(j.facts)
	seen := {k | some k in object.get(c, "keys", [])}
	wrong := sort([k | some k in seen; not_tenant_key(k, expected)])
	count(wrong) > 0
}

# An unencrypted backup never satisfies a per-tenant key, even when the registry has no key
# for the tenant (tiers reports that separately).
not_tenant_key(k, _) if k == ""

not_tenant_key(k, expected) if k != expected

violations contains lib.finding(
	policy, "backup_retention_below_objective", "medium", id, component,
	sprintf("%s: backups of %s are kept for as little as %v days; the objective is %v days", [id, component, days, objective]),
	{"component": component, "min_retention_days": days, "backup_retention_days": objective},
) if {
	some id, j in judged
	some component, c in components(j.facts)
	days := c.min_retention_days
	objective := j.objectives.backup_retention_days
	days < objective
}

# Backups, or failover tests, in a region the tenant's data may not live in.
violations contains lib.finding(
	policy, "backup_region_not_allowed", "critical", id, sprintf("%s@%s", [component, region]),
	sprintf("%s: %s in region %s, outside its region %s and allowed regions %v", [id, what, region, j.tenant.region, allowed]),
	{"component": component, "region": region, "tenant_region": j.tenant.region, "allowed_regions": allowed},
) if {
	some id, j in judged
	allowed := object.get(j.tenant, "allowed_regions", [])
	some loc in locations(j.facts)
	component := loc[0]
	region := loc[1]
	not region_allowed(j.tenant, region)
	what := location_text(component)
}

# (component, region) pairs: backups' locations, and failover tests' under "failover".
locations(facts) := {[component, region] |
	some component, c in components(facts)
	some region in object.get(c, "regions", [])
} | {["failover", region] | some region in object.get(facts, "failover_regions", [])}

region_allowed(t, region) if region == t.region

region_allowed(t, region) if region in object.get(t, "allowed_regions", [])

location_text(component) := "a failover test ran" if component == "failover"

location_text(component) := sprintf("a backup of %s was stored", [component]) if component != "failover"

# ---- restore and failover tests ----

violations contains lib.finding(
	policy, "restore_test_overdue", "high", id, "restore_test",
	sprintf("%s: no restore test on record; one is due every %v days", [id, days]),
	{"restore_test_days": days, "restore_test": null},
) if {
	some id, j in judged
	days := j.objectives.restore_test_days
	days > 0
	not is_object(j.facts.restore_test)
}

violations contains lib.finding(
	policy, "restore_test_overdue", "high", id, "restore_test",
	sprintf("%s: the last restore test (%s, %s) is %v days old; one is due every %v days", [id, rt.event_id, rt.time, rt.age_days, days]),
	{"restore_test_days": days, "restore_test": rt},
) if {
	some id, j in judged
	days := j.objectives.restore_test_days
	days > 0
	rt := j.facts.restore_test
	rt.age_days > days
}

violations contains lib.finding(
	policy, "restore_test_failed", "high", id, "restore_test",
	sprintf("%s: the latest restore test (%s of %s, %s) ended in %s", [id, rt.event_id, rt.component, rt.time, rt.outcome]),
	{"restore_test": rt},
) if {
	some id, j in judged
	rt := j.facts.restore_test
	rt.outcome != "success"
}

violations contains lib.finding(
	policy, "restore_test_over_rto", "medium", id, "restore_test",
	sprintf("%s: the latest restore test (%s of %s) took %v seconds; the RTO is %v minutes (%v seconds)", [id, rt.event_id, rt.component, rt.duration_seconds, rto, rto * 60]),
	{"rto_minutes": rto, "rto_seconds": rto * 60, "duration_seconds": rt.duration_seconds, "restore_test": rt},
) if {
	some id, j in judged
	rt := j.facts.restore_test
	rt.outcome == "success"
	rto := j.objectives.rto_minutes
	rt.duration_seconds > rto * 60
}

violations contains lib.finding(
	policy, "failover_never_tested", "high", id, "failover",
	sprintf("%s requires a DR region and has no successful failover test", [id]),
	{"dr_region_required": true, "failover_tests": object.get(j.facts, "failover_tests", 0), "failover_test": object.get(j.facts, "failover_test", null)},
) if {
	some id, j in judged
	j.objectives.dr_region_required == true
	object.get(j.facts, "failover_tests", 0) == 0
}

package tenantscope.recovery_test

import data.tenantscope.recovery
import data.tenantscope.testdata as td
import rego.v1

findings(reg, inp) := vs if {
	vs := recovery.violations with input as inp with data.tenantscope.registry as reg
}

# Findings of the baseline changed by JSON patch operations, against the test registry.
patched(ops) := findings(td.registry, json.patch(baseline, ops))

# Findings of the baseline with one value set (added or replaced).
with_value(path, value) := patched([{"op": "add", "path": path, "value": value}])

# A registry where one tenant's setting is replaced.
with_tenant(id, path, value) := json.patch(td.registry, [{"op": "add", "path": sprintf("/tenants/%s/%s", [id, path]), "value": value}])

# The one finding of a set of one.
only(vs) := v if {
	count(vs) == 1
	some v in vs
}

# A component backed up 25 minutes before the period's end, 48 times in the period, without
# stale windows or failures, kept 35 days.
component(id, name, key, region) := {
	"latest": {
		"completed": "2026-11-21T23:40:00Z", "snapshot": "2026-11-21T23:35:00Z", "age_minutes": 25,
		"scope": "tenant", "event_id": sprintf("bk-%s-%s", [id, name]),
	},
	"backups": 48, "stale": [], "keys": [key], "min_retention_days": 35, "regions": [region], "failures": [],
}

restore_test(id, region) := {
	"time": "2026-11-10T03:00:00Z", "outcome": "success", "duration_seconds": 1800, "component": "database",
	"location_region": region, "age_days": 12, "event_id": sprintf("rt-%s", [id]),
}

# Every test tenant meeting its objectives over one day: the shared tenants on platform
# backups without a key (they have no per-tenant key) and without failover (not required);
# umbrella-pharma on its own key in its other EU region, with a failover test.
baseline := {
	"kind": "recovery", "now": "2026-11-22T00:05:00Z", "from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z",
	"tenants": {
		"acme-dist": {
			"components": {c: component("acme-dist", c, "", "us-west-2") | some c in ["database", "object_storage", "config"]},
			"restore_test": restore_test("acme-dist", "us-west-2"),
			"failover_tests": 0, "failover_regions": [],
		},
		"hooli-wholesale": {
			"components": {c: component("hooli-wholesale", c, "", "us-west-2") | some c in ["database", "object_storage", "config"]},
			"restore_test": restore_test("hooli-wholesale", "us-west-2"),
			"failover_tests": 0, "failover_regions": [],
		},
		"umbrella-pharma": {
			"components": {c: component("umbrella-pharma", c, "kms-umbrella-1", "eu-west-1") | some c in ["database", "object_storage", "queue", "config", "integration_state"]},
			"restore_test": restore_test("umbrella-pharma", "eu-west-1"),
			"failover_tests": 1,
			"failover_test": {
				"time": "2026-11-21T06:00:00Z", "outcome": "success", "duration_seconds": 2400, "component": "database",
				"location_region": "eu-west-1", "age_days": 1, "event_id": "fo-umbrella-pharma",
			},
			"failover_regions": ["eu-west-1"],
		},
	},
}

umbrella := "/tenants/umbrella-pharma"

acme := "/tenants/acme-dist"

# ---- the baseline and who is judged ----

test_tenants_meeting_their_objectives_are_clean if count(findings(td.registry, baseline)) == 0

test_an_empty_recovery_input_is_clean if {
	count(findings(td.registry, {"kind": "recovery", "now": "2026-11-22T00:05:00Z", "from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z", "tenants": {}})) == 0
	count(findings(td.registry, {"kind": "recovery"})) == 0
}

test_a_tenant_unknown_to_the_registry_is_not_judged if {
	count(with_value("/tenants/wayne-freight", {"components": {}, "failover_tests": 0, "failover_regions": []})) == 0
}

test_a_tenant_without_recovery_objectives_is_not_judged if {
	reg := json.patch(td.registry, [{"op": "remove", "path": "/tenants/acme-dist/recovery"}])
	inp := json.patch(baseline, [{"op": "add", "path": acme, "value": {"components": {}, "failover_tests": 0, "failover_regions": []}}])
	count(findings(reg, inp)) == 0
}

# ---- backup_older_than_rpo ----

stale_windows := [
	{"from": "2026-11-21T02:00:00Z", "to": "2026-11-21T03:10:00Z", "minutes": 70, "max_age_minutes": 100},
	{"from": "2026-11-21T14:00:00Z", "to": "2026-11-21T14:20:00Z", "minutes": 20, "max_age_minutes": 50},
]

test_a_required_component_older_than_the_rpo if {
	vs := with_value(concat("", [umbrella, "/components/database/stale"]), stale_windows)
	td.rules(vs) == {"backup_older_than_rpo"}
	v := only(vs)
	v.severity == "high"
	v.tenant == "umbrella-pharma"
	v.subject == "database"
	v.evidence.rpo_minutes == 30
	v.evidence.stale_minutes == 90
	v.evidence.max_age_minutes == 100
	v.evidence.windows == stale_windows
	v.evidence.latest.event_id == "bk-umbrella-pharma-database"
	contains(v.message, "umbrella-pharma")
	contains(v.message, "database")
	contains(v.message, "90 minutes")
}

test_a_stale_window_of_a_component_that_is_not_required_is_clean if {
	queue := json.patch(component("acme-dist", "queue", "", "us-west-2"), [{"op": "add", "path": "/stale", "value": stale_windows}])
	count(with_value(concat("", [acme, "/components/queue"]), queue)) == 0
}

test_a_window_whose_age_stays_at_the_rpo_is_clean if {
	count(with_value(concat("", [umbrella, "/components/database/stale"]), [{"from": "2026-11-21T02:00:00Z", "to": "2026-11-21T02:05:00Z", "minutes": 5, "max_age_minutes": 30}])) == 0
}

test_stale_windows_without_any_backup_are_only_never_backed_up if {
	vs := patched([
		{"op": "remove", "path": concat("", [umbrella, "/components/queue/latest"])},
		{"op": "add", "path": concat("", [umbrella, "/components/queue/stale"]), "value": stale_windows},
	])
	td.rules(vs) == {"component_never_backed_up"}
}

# ---- component_never_backed_up ----

test_a_required_component_absent_from_the_input if {
	vs := patched([{"op": "remove", "path": concat("", [acme, "/components/config"])}])
	td.rules(vs) == {"component_never_backed_up"}
	v := only(vs)
	v.subject == "config"
	v.tenant == "acme-dist"
	v.evidence.required_components == ["config", "database", "object_storage"]
	v.evidence.backed_up_components == ["database", "object_storage"]
}

test_a_required_component_present_without_a_backup if {
	vs := patched([{"op": "remove", "path": concat("", [umbrella, "/components/queue/latest"])}])
	td.rules(vs) == {"component_never_backed_up"}
	only(vs).subject == "queue"
}

test_a_component_that_is_not_required_may_lack_backups if {
	count(with_value(concat("", [acme, "/components/queue"]), {"backups": 0, "stale": [], "keys": [], "regions": [], "failures": []})) == 0
}

# ---- backup_key_not_tenant_key ----

test_a_backup_under_another_key if {
	vs := with_value(concat("", [umbrella, "/components/database/keys"]), ["kms-umbrella-1", "kms-platform-7"])
	td.rules(vs) == {"backup_key_not_tenant_key"}
	v := only(vs)
	v.subject == "database"
	v.evidence.expected_key == "kms-umbrella-1"
	v.evidence.keys == ["kms-platform-7", "kms-umbrella-1"]
	v.evidence.wrong_keys == ["kms-platform-7"]
	contains(v.message, "kms-platform-7")
}

test_an_unencrypted_backup_of_a_tenant_with_its_own_key if {
	vs := with_value(concat("", [umbrella, "/components/queue/keys"]), [""])
	td.rules(vs) == {"backup_key_not_tenant_key"}
	only(vs).evidence.wrong_keys == [""]
}

test_unencrypted_backups_are_found_even_when_the_registry_lacks_the_key if {
	reg := with_tenant("umbrella-pharma", "encryption_key_id", "")
	vs := findings(reg, with_value_input(concat("", [umbrella, "/components/config/keys"]), [""]))
	td.rules(vs) == {"backup_key_not_tenant_key"}
	{v.subject | some v in vs} == {"database", "object_storage", "queue", "config", "integration_state"}
}

test_a_tenant_without_a_per_tenant_key_may_use_any_key if {
	count(with_value(concat("", [acme, "/components/database/keys"]), ["kms-platform-7", ""])) == 0
}

with_value_input(path, value) := json.patch(baseline, [{"op": "add", "path": path, "value": value}])

# ---- backup_retention_below_objective ----

test_backups_kept_shorter_than_the_objective if {
	vs := with_value(concat("", [umbrella, "/components/object_storage/min_retention_days"]), 34)
	td.rules(vs) == {"backup_retention_below_objective"}
	v := only(vs)
	v.severity == "medium"
	v.subject == "object_storage"
	v.evidence.min_retention_days == 34
	v.evidence.backup_retention_days == 35
}

test_backups_kept_exactly_as_long_as_the_objective_are_clean if {
	count(with_value(concat("", [acme, "/components/config/min_retention_days"]), 30)) == 0
}

test_a_period_without_backups_has_no_retention_to_judge if {
	count(patched([{"op": "remove", "path": concat("", [acme, "/components/config/min_retention_days"])}])) == 0
}

# ---- restore tests ----

test_a_restore_test_older_than_the_objective if {
	vs := with_value(concat("", [umbrella, "/restore_test/age_days"]), 31)
	td.rules(vs) == {"restore_test_overdue"}
	v := only(vs)
	v.subject == "restore_test"
	v.evidence.restore_test_days == 30
	v.evidence.restore_test.event_id == "rt-umbrella-pharma"
}

test_no_restore_test_at_all_is_overdue if {
	vs := patched([{"op": "remove", "path": concat("", [acme, "/restore_test"])}])
	td.rules(vs) == {"restore_test_overdue"}
	v := only(vs)
	v.tenant == "acme-dist"
	v.evidence.restore_test == null
	v.evidence.restore_test_days == 90
}

test_a_restore_test_exactly_at_the_limit_is_clean if {
	count(with_value(concat("", [umbrella, "/restore_test/age_days"]), 30)) == 0
}

test_no_restore_test_is_clean_when_none_is_required if {
	reg := with_tenant("acme-dist", "recovery/restore_test_days", 0)
	inp := json.patch(baseline, [{"op": "remove", "path": concat("", [acme, "/restore_test"])}])
	count(findings(reg, inp)) == 0
}

test_a_failed_restore_test if {
	vs := with_value(concat("", [acme, "/restore_test/outcome"]), "failure")
	td.rules(vs) == {"restore_test_failed"}
	v := only(vs)
	v.severity == "high"
	v.evidence.restore_test.event_id == "rt-acme-dist"
}

test_a_long_failed_restore_test_is_failed_not_over_the_rto if {
	vs := patched([
		{"op": "add", "path": concat("", [acme, "/restore_test/outcome"]), "value": "failure"},
		{"op": "add", "path": concat("", [acme, "/restore_test/duration_seconds"]), "value": 90000},
	])
	td.rules(vs) == {"restore_test_failed"}
}

test_a_failed_failover_test_is_not_a_failed_restore_test if {
	count(with_value(concat("", [umbrella, "/failover_test/outcome"]), "failure")) == 0
}

test_a_restore_test_slower_than_the_rto if {
	vs := with_value(concat("", [umbrella, "/restore_test/duration_seconds"]), 7201)
	td.rules(vs) == {"restore_test_over_rto"}
	v := only(vs)
	v.severity == "medium"
	v.evidence.rto_minutes == 120
	v.evidence.rto_seconds == 7200
	v.evidence.duration_seconds == 7201
	contains(v.message, "7201")
}

test_a_restore_test_exactly_at_the_rto_is_clean if {
	count(with_value(concat("", [umbrella, "/restore_test/duration_seconds"]), 7200)) == 0
}

# ---- backup_region_not_allowed ----

test_a_backup_outside_the_allowed_regions if {
	vs := with_value(concat("", [umbrella, "/components/database/regions"]), ["eu-west-1", "us-east-1"])
	td.rules(vs) == {"backup_region_not_allowed"}
	v := only(vs)
	v.severity == "critical"
	v.subject == "database@us-east-1"
	v.evidence.region == "us-east-1"
	v.evidence.component == "database"
	v.evidence.allowed_regions == ["eu-central-1", "eu-west-1"]
}

test_a_failover_test_outside_the_allowed_regions if {
	vs := with_value(concat("", [umbrella, "/failover_regions"]), ["us-east-1"])
	td.rules(vs) == {"backup_region_not_allowed"}
	v := only(vs)
	v.subject == "failover@us-east-1"
	v.evidence.component == "failover"
}

test_the_home_region_is_allowed_even_when_not_listed if {
	reg := with_tenant("umbrella-pharma", "allowed_regions", ["eu-west-1"])
	inp := with_value_input(concat("", [umbrella, "/components/database/regions"]), ["eu-central-1", "eu-west-1"])
	count(findings(reg, inp)) == 0
}

# ---- failover_never_tested ----

test_a_dr_region_without_a_failover_test if {
	vs := patched([
		{"op": "add", "path": concat("", [umbrella, "/failover_tests"]), "value": 0},
		{"op": "remove", "path": concat("", [umbrella, "/failover_test"])},
		{"op": "add", "path": concat("", [umbrella, "/failover_regions"]), "value": []},
	])
	td.rules(vs) == {"failover_never_tested"}
	v := only(vs)
	v.subject == "failover"
	v.evidence.failover_tests == 0
	v.evidence.failover_test == null
}

test_only_failed_failover_tests_count_as_never_tested if {
	vs := patched([
		{"op": "add", "path": concat("", [umbrella, "/failover_tests"]), "value": 0},
		{"op": "add", "path": concat("", [umbrella, "/failover_test/outcome"]), "value": "failure"},
	])
	td.rules(vs) == {"failover_never_tested"}
	only(vs).evidence.failover_test.event_id == "fo-umbrella-pharma"
}

test_a_failover_tested_once_is_clean if {
	count(patched([
		{"op": "add", "path": concat("", [umbrella, "/failover_tests"]), "value": 1},
		{"op": "add", "path": concat("", [umbrella, "/failover_regions"]), "value": []},
	])) == 0
}

test_no_failover_test_is_clean_without_a_dr_region if {
	reg := with_tenant("umbrella-pharma", "recovery/dr_region_required", false)
	inp := json.patch(baseline, [
		{"op": "add", "path": concat("", [umbrella, "/failover_tests"]), "value": 0},
		{"op": "remove", "path": concat("", [umbrella, "/failover_test"])},
	])
	count(findings(reg, inp)) == 0
}

# ---- backup_failure_unrecovered ----

test_a_failed_backup_with_no_success_since if {
	vs := with_value(concat("", [umbrella, "/components/database/failures"]), [
		{"time": "2026-11-21T05:00:00Z", "event_id": "bf-1", "next_success_minutes": 20},
		{"time": "2026-11-21T23:50:00Z", "event_id": "bf-2", "next_success_minutes": -1},
	])
	td.rules(vs) == {"backup_failure_unrecovered"}
	v := only(vs)
	v.subject == "database"
	v.evidence.rpo_minutes == 30
	v.evidence.event_ids == ["bf-2"]
	v.evidence.failures == [{"time": "2026-11-21T23:50:00Z", "event_id": "bf-2", "next_success_minutes": -1}]
}

test_a_failed_backup_recovered_after_the_rpo if {
	vs := with_value(concat("", [umbrella, "/components/config/failures"]), [{"time": "2026-11-21T05:00:00Z", "event_id": "bf-3", "next_success_minutes": 31}])
	td.rules(vs) == {"backup_failure_unrecovered"}
	only(vs).evidence.event_ids == ["bf-3"]
}

test_a_failed_backup_recovered_within_the_rpo_is_clean if {
	count(with_value(concat("", [umbrella, "/components/config/failures"]), [{"time": "2026-11-21T05:00:00Z", "event_id": "bf-4", "next_success_minutes": 30}])) == 0
}

test_an_unrecovered_failure_of_a_component_that_is_not_required_is_clean if {
	queue := json.patch(component("acme-dist", "queue", "", "us-west-2"), [{"op": "add", "path": "/failures", "value": [{"time": "2026-11-21T05:00:00Z", "event_id": "bf-5", "next_success_minutes": -1}]}])
	count(with_value(concat("", [acme, "/components/queue"]), queue)) == 0
}

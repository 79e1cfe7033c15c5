# Shared helpers for tenantscope's policies.
#
# Every policy package exposes `violations`, a set of findings of one shape:
#   {policy, rule, severity, tenant, subject, message, evidence}
# `subject` names what the finding is about (an event id, a data class, a key id), so that
# tenantscope can key stored findings by (tenant, policy, rule, subject) and close them when a
# later run no longer produces them. `evidence` holds what an auditor needs to check it
# (event ids, trace ids, counts, windows).
#
# Policies read the tenant registry from data.tenantscope.registry (built by tenantscope
# from the registry file: tenants with their effective retention, quotas and controls, and the
# tiers), and one input document per evaluation (see each package's header).
package tenantscope.lib

import rego.v1

registry := data.tenantscope.registry

tenants := object.get(registry, "tenants", {})

tiers := object.get(registry, "tiers", {})

# The registry entry of a tenant id, or {} for an unknown one.
tenant(id) := object.get(tenants, id, {})

# One finding. Severity is one of: info, low, medium, high, critical.
finding(policy, rule, severity, tenant_id, subject, message, evidence) := {
	"policy": policy,
	"rule": rule,
	"severity": severity,
	"tenant": tenant_id,
	"subject": subject,
	"message": message,
	"evidence": evidence,
}

# Regions in the EU (for residency controls).
eu_region(r) if startswith(r, "eu-")

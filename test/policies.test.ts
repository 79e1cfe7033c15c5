// The shipped policies (policies/) against the demo registry as tenantscope builds it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { loadRegistry } from '../src/config/index.js';
import { fromRoot } from '../src/paths.js';
import { registryDocument } from '../src/policy/registry-data.js';
import { RegoEngine, toJS } from '../src/policy/rego/index.js';
import '../src/policy/rego/builtins/index.js';

interface Finding {
  policy: string;
  rule: string;
  severity: string;
  tenant: string;
  subject: string;
}

function engineFor(registryFile: string): RegoEngine {
  const e = new RegoEngine();
  for (const f of readdirSync(fromRoot('policies'))) if (f.endsWith('.rego') && !f.endsWith('_test.rego')) e.addModule(f, readFileSync(fromRoot('policies', f), 'utf8'));
  e.setData({ tenantscope: { registry: registryDocument(loadRegistry(registryFile)) } });
  return e;
}

function findings(e: RegoEngine, pkg: string, input: unknown): Finding[] {
  return toJS(e.evalRule(`tenantscope.${pkg}.violations`, input) ?? []) as Finding[];
}

const scheduled = { kind: 'scheduled', now: '2026-11-22T00:00:00Z', stored: {} };

test('the demo registry meets its tiers and retention rules; the legal hold is a notice', () => {
  const e = engineFor(fromRoot('fixtures', 'tenants.yaml'));
  assert.equal(findings(e, 'tiers', scheduled), []);
  const ret = findings(e, 'retention', scheduled);
  assert.equal(
    ret.map((f) => [f.tenant, f.rule, f.severity]),
    [['umbrella-pharma', 'legal_hold_active', 'info']],
  );
});

test('stored data past its retention is a finding for that tenant and class only', () => {
  const e = engineFor(fromRoot('fixtures', 'tenants.yaml'));
  const input = { ...scheduled, stored: { 'acme-dist': { spans: { oldest: '2026-09-01T00:00:00Z', rows: 5 }, logs: { oldest: '2026-11-01T00:00:00Z', rows: 9 } }, 'umbrella-pharma': { spans: { oldest: '2020-01-01T00:00:00Z', rows: 1 } } } };
  const ret = findings(e, 'retention', input).filter((f) => f.rule !== 'legal_hold_active');
  // acme-dist keeps spans 30 days (2026-09-01 is 82 days old); its logs are 21 days old. The
  // held tenant's old rows are suppressed.
  assert.equal(ret.map((f) => [f.tenant, f.rule, f.subject]), [['acme-dist', 'retention_not_enforced', 'spans']]);
});

test('an audit event of one tenant acting on another is found for the owning tenant only', () => {
  const e = engineFor(fromRoot('fixtures', 'tenants.yaml'));
  const event = { id: 'evt-9', time: '2026-11-20T10:00:00Z', actor: { id: 'u-4', type: 'user', tenant_id: 'acme-dist' }, action: 'data.read', target: { type: 'dataset', id: 'orders', tenant_id: 'hooli-wholesale' }, outcome: 'success', region: 'us-east-1', attributes: {} };
  const got = findings(e, 'isolation', { kind: 'audit_event', tenant: 'acme-dist', event });
  assert.equal(got.map((f) => [f.tenant, f.rule, f.subject]), [['acme-dist', 'cross_tenant_access', 'evt-9']]);
});

const period = { kind: 'recovery', now: '2026-11-22T00:05:00Z', from: '2026-11-21T00:00:00Z', to: '2026-11-22T00:00:00Z' };

/** Recovery facts of a tenant whose components are all backed up 10 minutes before the period's end. */
function recoveryFacts(components: string[], key: string, region: string, stale: unknown[] = []) {
  return {
    components: Object.fromEntries(
      components.map((c) => [c, { latest: { completed: '2026-11-21T23:52:00Z', snapshot: '2026-11-21T23:50:00Z', age_minutes: 10, scope: 'tenant', event_id: `bk-${c}` }, backups: 96, stale, keys: [key], min_retention_days: 90, regions: [region], failures: [] }]),
    ),
    restore_test: { time: '2026-11-15T02:00:00Z', outcome: 'success', duration_seconds: 600, component: 'database', location_region: region, age_days: 7, event_id: 'rt-1' },
    failover_tests: 1,
    failover_test: { time: '2026-11-16T02:00:00Z', outcome: 'success', duration_seconds: 900, component: 'database', location_region: region, age_days: 6, event_id: 'fo-1' },
    failover_regions: [region],
  };
}

test('the recovery policy loads against the demo registry; an empty period is clean', () => {
  const e = engineFor(fromRoot('fixtures', 'tenants.yaml'));
  assert.equal(findings(e, 'recovery', { ...period, tenants: {} }), []);
  const all = ['database', 'object_storage', 'queue', 'config', 'integration_state'];
  assert.equal(findings(e, 'recovery', { ...period, tenants: { 'globex-3pl': recoveryFacts(all, 'kms-globex-3pl-1', 'us-east-1') } }), []);
});

test('recovery objectives come from the tier and the contract: a tenant with no facts, a tighter RPO', () => {
  const e = engineFor(fromRoot('fixtures', 'tenants.yaml'));
  // globex-3pl (dedicated) has nothing on record: every required component, the restore test
  // and the failover test (its tier requires a DR region) are missing.
  const none = findings(e, 'recovery', { ...period, tenants: { 'globex-3pl': { components: {}, failover_tests: 0, failover_regions: [] } } });
  assert.equal(none.map((f) => [f.rule, f.subject]).sort(), [
    ['component_never_backed_up', 'config'],
    ['component_never_backed_up', 'database'],
    ['component_never_backed_up', 'integration_state'],
    ['component_never_backed_up', 'object_storage'],
    ['component_never_backed_up', 'queue'],
    ['failover_never_tested', 'failover'],
    ['restore_test_overdue', 'restore_test'],
  ]);
  // A 20-minute-old snapshot breaks stark-logistics' contract RPO (15) but not the segmented
  // tier's (30), which umbrella-pharma keeps.
  const stale = [{ from: '2026-11-21T04:00:00Z', to: '2026-11-21T04:05:00Z', minutes: 5, max_age_minutes: 20 }];
  const seg = ['database', 'object_storage', 'queue', 'config', 'integration_state'];
  const got = findings(e, 'recovery', {
    ...period,
    tenants: {
      'stark-logistics': recoveryFacts(seg, 'kms-stark-logistics-1', 'ca-central-1', stale),
      'umbrella-pharma': recoveryFacts(seg, 'kms-umbrella-pharma-eu-1', 'eu-west-1', stale),
    },
  });
  assert.equal(got.map((f) => [f.tenant, f.rule, f.subject]).sort(), seg.map((c) => ['stark-logistics', 'backup_older_than_rpo', c]).sort());
});

test.run();

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

test.run();

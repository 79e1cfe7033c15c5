// Policy reload in a running service: edits to the policy directory are picked up; a file that
// does not parse, or a change that makes a test fail, is refused with its reason while the
// previous policies keep evaluating; a good change takes effect.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../src/paths.js';
import type { PolicyStatus } from '../src/policy/service.js';
import type { Violation } from '../src/policy/types.js';
import { bearer, startTestServer, type TestServer } from './support/server.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-policies-'));
cpSync(fromRoot('policies'), dir, { recursive: true });
let server: TestServer;

async function status(): Promise<PolicyStatus> {
  const res = await fetch(`${server.apiUrl}/api/v1/policies`, { headers: bearer('demo-admin') });
  assert.is(res.status, 200);
  return (await res.json()) as PolicyStatus;
}

/** Poll the status until `ok` holds (file watching is asynchronous); fail after 15 s. */
async function until(what: string, ok: (s: PolicyStatus) => boolean): Promise<PolicyStatus> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await status();
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`policy status never showed ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function audit(action: string, id: string, attributes: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer('demo-ingest-initech-retail') },
    body: JSON.stringify({ id, time: '2026-11-20T10:00:00Z', actor: { id: 'u-1', type: 'user', tenant_id: 'initech-retail' }, action, target: { type: 'dataset', id: 'd-1' }, outcome: 'success', attributes }),
  });
  assert.is(res.status, 200);
  await server.policies!.drain();
}

async function rules(): Promise<string[]> {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/initech-retail/violations`, { headers: bearer('demo-read-initech-retail') });
  return ((await res.json()) as { violations: Violation[] }).violations.map((v) => `${v.policy}/${v.rule} ${v.subject}`).sort();
}

test.before(async () => {
  server = await startTestServer({ policies: dir, policyIntervalMs: 0 });
});

test('a file that does not parse is refused with its name; the previous policies keep running', async () => {
  const before = await status();
  assert.is(before.refused, null);
  writeFileSync(join(dir, 'zz_broken.rego'), 'package tenantscope.broken\nimport rego.v1\n\nviolations contains x if {\n');
  const s = await until('a refusal', (x) => x.refused !== null);
  assert.match(s.refused!.reason, /zz_broken\.rego/);
  assert.is(s.version, before.version);
  await audit('data.export', 'exp-1');
  assert.equal(await rules(), ['isolation/export_without_approval exp-1']);
  unlinkSync(join(dir, 'zz_broken.rego'));
});

test('a change that makes a policy test fail is refused, naming the test', async () => {
  const file = join(dir, 'isolation.rego');
  const original = readFileSync(file, 'utf8');
  const before = await status();
  // Exports no longer need an approval: isolation_test.rego says otherwise.
  writeFileSync(file, original.replace('event.action == "data.export"', 'event.action == "data.export.never"'));
  const s = await until('a refusal for the failing test', (x) => x.refused?.reason.includes('test_export') === true);
  assert.match(s.refused!.reason, /FAIL/);
  assert.is(s.version, before.version);
  await audit('data.export', 'exp-2');
  assert.ok((await rules()).includes('isolation/export_without_approval exp-2'), 'the previous rule still applies');
  writeFileSync(file, original);
});

test('a good change takes effect without a restart', async () => {
  const before = await status();
  writeFileSync(
    join(dir, 'bulk.rego'),
    `package tenantscope.bulk
import rego.v1

evaluated_on := {"audit_event"}

violations contains {"policy": "bulk", "rule": "bulk_delete", "severity": "medium", "tenant": input.tenant, "subject": input.event.id, "message": "bulk delete", "evidence": {}} if {
	input.event.action == "data.bulk_delete"
}
`,
  );
  writeFileSync(
    join(dir, 'bulk_test.rego'),
    `package tenantscope.bulk_test
import rego.v1
import data.tenantscope.bulk

test_bulk_delete if count(bulk.violations) == 1 with input as {"tenant": "t", "event": {"id": "e", "action": "data.bulk_delete"}}
`,
  );
  const s = await until('a new version', (x) => x.version !== before.version && x.refused === null && x.entry_points.length === 5);
  assert.ok(s.entry_points.some((e) => e.package === 'tenantscope.bulk'));
  await audit('data.bulk_delete', 'bulk-1');
  assert.ok((await rules()).includes('bulk/bulk_delete bulk-1'));
});

test('the policy status is for admins only', async () => {
  const res = await fetch(`${server.apiUrl}/api/v1/policies`, { headers: bearer('demo-read-initech-retail') });
  assert.is(res.status, 403);
});

test.after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test.run();

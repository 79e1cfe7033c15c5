// Policies end to end: the fixtures in fixtures/policy/ are sent through a running tenantscope
// (OTLP/HTTP and /v1/audit), and the violations API must then hold exactly the violations each
// fixture expects, for the right tenant and no other. A stored condition that goes away (data
// older than its retention, then expired) must close its violation on the next scheduled run.
import { test } from 'uvu';
import { withoutForeignNames } from '../../src/reports/foreign-names.js';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { fromRoot } from '../../src/paths.js';
import { bearer, DEMO_CONFIG, startTestServer, type TestServer } from '../support/server.js';
import { sendHealthyRecovery } from '../support/recovery.js';
import type { Violation } from '../../src/policy/types.js';

interface Expected {
  tenant: string;
  policy: string;
  rule: string;
  subject: string;
}

interface Fixture {
  name: string;
  description: string;
  registry?: { tenants: Record<string, Record<string, unknown>> };
  requests: { token: string; path: string; body: unknown }[];
  expect: Expected[];
}

const FIXTURES: Fixture[] = readdirSync(fromRoot('fixtures', 'policy'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.slice(0, -5), ...(JSON.parse(readFileSync(fromRoot('fixtures', 'policy', f), 'utf8')) as Omit<Fixture, 'name'>) }));

const ADMIN = bearer('demo-admin');
const tmp = mkdtempSync(join(tmpdir(), 'tenantscope-policies-'));

const key = (v: Expected) => `${v.tenant} ${v.policy}/${v.rule} ${v.subject}`;

/** The demo registry with a fixture's per-tenant overrides, written to a file. */
function registryWith(patch: Fixture['registry'], name: string): string {
  if (!patch) return DEMO_CONFIG;
  const doc = parse(readFileSync(DEMO_CONFIG, 'utf8')) as { tenants: { id: string; [k: string]: unknown }[] };
  for (const t of doc.tenants) {
    const p = patch.tenants[t.id];
    if (!p) continue;
    for (const [k, v] of Object.entries(p)) t[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(t[k] as object), ...v } : v;
  }
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

// `copy` > 0 sends the fixture as another request with the same content: its bytes differ
// (indentation), as any two real batches do, so the receiver does not take it for a client
// retry of the first (which it would acknowledge without storing again).
async function send(server: TestServer, f: Fixture, copy = 0): Promise<void> {
  for (const r of f.requests) {
    const res = await fetch(`${server.otlpHttpUrl}${r.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(r.token) },
      body: JSON.stringify(r.body, null, copy),
    });
    assert.ok(res.status === 200, `${f.name}: ${r.path} answered ${res.status}: ${await res.text()}`);
  }
  await server.policies!.drain();
}

async function openViolations(server: TestServer): Promise<Violation[]> {
  const res = await fetch(`${server.apiUrl}/api/v1/violations?status=open`, { headers: ADMIN });
  assert.is(res.status, 200);
  return ((await res.json()) as { violations: Violation[] }).violations;
}

// The demo registry holds one standing finding: umbrella-pharma's legal hold (an info notice).
const STANDING = ['umbrella-pharma retention/legal_hold_active legal_hold'];

for (const f of FIXTURES) {
  test(`fixture ${f.name}: ${f.expect.length === 0 ? 'no violation' : f.expect.map(key).join(', ')}`, async () => {
    const server = await startTestServer({ configPath: registryWith(f.registry, f.name), policyIntervalMs: 0 });
    try {
      // Backed up as promised, so the recovery policies find nothing they are not asked to.
      await sendHealthyRecovery(server.otlpHttpUrl, server.registry);
      await server.policies!.runScheduled();
      const before = new Set((await openViolations(server)).map(key));
      await send(server, f);
      await server.policies!.runScheduled();
      const after = await openViolations(server);
      const added = after.map(key).filter((k) => !before.has(k) || f.expect.some((e) => key(e) === k));
      assert.equal(added.sort(), f.expect.map(key).sort(), `${f.name}: ${f.description}`);
      // Standing findings come from the registry alone; a fixture's registry may add its own.
      assert.equal([...before].filter((k) => !f.expect.some((e) => key(e) === k)).sort(), STANDING);
      for (const e of f.expect) {
        const v = after.find((x) => key(x) === key(e))!;
        assert.is(v.status, 'open');
        assert.ok(v.count >= 1);
        // The owning tenant sees it through its own read token; a neighbour sees nothing of it.
        const own = await fetch(`${server.apiUrl}/api/v1/tenants/${e.tenant}/violations`, { headers: bearer(`demo-read-${e.tenant}`) });
        assert.is(own.status, 200);
        const mine = ((await own.json()) as { violations: Violation[] }).violations;
        // ... with other tenants named "another tenant" (names are for the operator).
        assert.ok(mine.some((x) => key(x) === key(withoutForeignNames(e, server.registry, e.tenant))), `${e.tenant} reads its own violation`);
        assert.ok(mine.every((x) => x.tenant === e.tenant));
        const other = e.tenant === 'globex-3pl' ? 'acme-dist' : 'globex-3pl';
        const theirs = await fetch(`${server.apiUrl}/api/v1/tenants/${e.tenant}/violations`, { headers: bearer(`demo-read-${other}`) });
        assert.is(theirs.status, 403);
        assert.not.ok((await theirs.text()).includes(e.rule));
      }
    } finally {
      await server.stop();
    }
  });
}

test('evidence of a leak names its trace and never the leaked value', async () => {
  const leak = FIXTURES.find((f) => f.name === 'leak')!;
  const server = await startTestServer({ policyIntervalMs: 0 });
  try {
    await send(server, leak);
    const v = (await openViolations(server)).find((x) => x.rule === 'cross_tenant_identifier_redacted')!;
    const evidence = v.evidence as { trace_ids: string[]; count: number; identifier_owner: string };
    assert.equal(evidence.trace_ids, ['2f0e0c0a0b0d0e0f1011121314151601']);
    assert.is(evidence.count, 1);
    assert.is(evidence.identifier_owner, 'globex-3pl');
    assert.not.ok(JSON.stringify(v).includes('CUST-60981'));
  } finally {
    await server.stop();
  }
});

test('a repeated finding counts up under one key', async () => {
  const f = FIXTURES.find((x) => x.name === 'missing-tenant-context')!;
  const server = await startTestServer({ policyIntervalMs: 0 });
  try {
    await send(server, f, 0);
    await send(server, f, 1);
    await send(server, f, 2);
    const v = (await openViolations(server)).filter((x) => x.rule === 'missing_tenant_context');
    assert.is(v.length, 1);
    assert.is(v[0]!.count, 3);
    assert.ok(v[0]!.first_seen <= v[0]!.last_seen);
  } finally {
    await server.stop();
  }
});

test('stored data older than its retention is a violation until it expires, then the next run resolves it', async () => {
  const server = await startTestServer({ policyIntervalMs: 0 });
  try {
    await sendHealthyRecovery(server.otlpHttpUrl, server.registry);
    // hooli-wholesale keeps spans 14 days; these rows were received 40 days ago, and TTL
    // merges are stopped (as on a server whose background pool is stuck or misconfigured).
    await server.store.exec('SYSTEM STOP TTL MERGES spans');
    await server.store.exec(
      `INSERT INTO spans (tenant_id, trace_id, span_id, name, retention_days, ingested_at)
       SELECT 'hooli-wholesale', lower(hex(randomString(16))), lower(hex(randomString(8))), 'old', 14, now64(3) - toIntervalDay(40) FROM numbers(3)`,
    );
    const first = await server.policies!.runScheduled();
    const found = first.findings.filter((x) => x.rule === 'retention_not_enforced');
    assert.equal(found.map((x) => `${x.tenant} ${x.subject}`), ['hooli-wholesale spans']);
    let v = (await openViolations(server)).find((x) => x.rule === 'retention_not_enforced');
    assert.ok(v, 'open after the first run');
    assert.is((v!.evidence as { rows: number }).rows, 3);

    // Merging applies the TTL: the rows go, and with them the condition.
    await server.store.exec('SYSTEM START TTL MERGES spans');
    await server.store.exec('OPTIMIZE TABLE spans FINAL');
    const second = await server.policies!.runScheduled();
    assert.equal(second.resolved.map((x) => `${x.tenant} ${x.rule} ${x.subject}`), ['hooli-wholesale retention_not_enforced spans']);
    assert.not.ok((await openViolations(server)).some((x) => x.rule === 'retention_not_enforced'));
    // The auditor's scope is acme-dist and umbrella-pharma: hooli-wholesale is not theirs.
    const auditor = await fetch(`${server.apiUrl}/api/v1/tenants/hooli-wholesale/violations?status=all`, { headers: bearer('demo-auditor') });
    assert.is(auditor.status, 403);
    const res = await fetch(`${server.apiUrl}/api/v1/tenants/hooli-wholesale/violations?status=resolved`, { headers: bearer('demo-read-hooli-wholesale') });
    assert.is(res.status, 200);
    v = ((await res.json()) as { violations: Violation[] }).violations.find((x) => x.rule === 'retention_not_enforced');
    assert.ok(v, 'listed as resolved');
    assert.is(v!.status, 'resolved');
    assert.ok(v!.resolved_at >= v!.last_seen);
    // A third run leaves it resolved (and the legal-hold notice open).
    const third = await server.policies!.runScheduled();
    assert.is(third.resolved.length, 0);
    assert.equal((await openViolations(server)).map(key), STANDING);
  } finally {
    await server.stop();
  }
});

test('violations reject a bad status and need a token', async () => {
  const server = await startTestServer({ policyIntervalMs: 0 });
  try {
    const bad = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/violations?status=closed`, { headers: ADMIN });
    assert.is(bad.status, 400);
    assert.match(await bad.text(), /status/);
    const none = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/violations`);
    assert.is(none.status, 401);
    const ingest = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/violations`, { headers: bearer('demo-ingest-acme-dist') });
    assert.is(ingest.status, 403);
    const all = await fetch(`${server.apiUrl}/api/v1/violations`, { headers: bearer('demo-read-acme-dist') });
    assert.is(all.status, 403);
  } finally {
    await server.stop();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));


test('recovery objectives are judged on schedule into violations, which resolve once the backups arrive', async () => {
  const server = await startTestServer({ policyIntervalMs: 0 });
  try {
    const first = await server.policies!.runScheduled();
    const never = first.findings.filter((x) => x.rule === 'component_never_backed_up');
    assert.ok(never.some((x) => x.tenant === 'globex-3pl' && x.subject === 'integration_state'), 'an empty store has no backups of anything');
    await sendHealthyRecovery(server.otlpHttpUrl, server.registry);
    const second = await server.policies!.runScheduled();
    assert.equal(second.findings.filter((x) => x.policy === 'recovery'), []);
    assert.ok(second.resolved.filter((x) => x.policy === 'recovery').length >= never.length, 'every recovery violation resolved');
    assert.equal((await openViolations(server)).map(key), STANDING);

    // umbrella-pharma (EU residency: eu-central-1, eu-west-1) has one object-storage copy land in us-east-1.
    const copy = {
      time: new Date(Date.now() - 5 * 60_000).toISOString(),
      actor: { id: 'backup-operator', type: 'service' },
      action: 'backup.completed',
      target: { type: 'bucket', id: 'documents' },
      outcome: 'success',
      attributes: { component: 'object_storage', scope: 'tenant', snapshot_time: new Date(Date.now() - 6 * 60_000).toISOString(), retention_days: '35', location_region: 'us-east-1', encryption_key_id: 'kms-umbrella-pharma-eu-1' },
    };
    const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(copy), headers: { 'content-type': 'application/json', ...bearer('demo-ingest-umbrella-pharma') } });
    assert.is(res.status, 200);
    await server.policies!.runScheduled();
    const open = (await openViolations(server)).filter((x) => x.policy === 'recovery');
    assert.equal(open.map(key), ['umbrella-pharma recovery/backup_region_not_allowed object_storage@us-east-1']);
    assert.is(open[0]!.severity, 'critical');
    const own = await fetch(`${server.apiUrl}/api/v1/tenants/umbrella-pharma/violations`, { headers: bearer('demo-read-umbrella-pharma') });
    assert.ok(((await own.json()) as { violations: Violation[] }).violations.some((x) => x.rule === 'backup_region_not_allowed'));
    const theirs = await fetch(`${server.apiUrl}/api/v1/tenants/umbrella-pharma/violations`, { headers: bearer('demo-read-acme-dist') });
    assert.is(theirs.status, 403);
  } finally {
    await server.stop();
  }
});

test.run();

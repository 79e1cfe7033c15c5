// Audit events: POST /v1/audit stores valid events per tenant in a hash chain, rejects invalid
// ones one by one with every schema error, and `audit verify` (API and CLI) recomputes the
// chain and names the first broken link when a stored event is changed or deleted.
import { insertChunk } from '../src/store/index.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, bearer, type TestServer } from './support/server.js';
import { cliResult as cli } from './support/cli.js';
import { ChainWriter, verifyChain } from '../src/ingest/audit/chain.js';
import { AuditIngest } from '../src/ingest/audit/ingest.js';
import { auditEvent } from './support/audit.js';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after(async () => {
  await server.stop();
});

interface AuditReply {
  accepted: number;
  rejected: number;
  events: Array<{ index: number; status: string; id?: string; seq?: number; hash?: string; flags?: string[]; errors?: string[] }>;
  error?: { code: string; message: string };
}

const event = auditEvent;

async function postAudit(token: string, body: string, type = 'application/json'): Promise<{ status: number; body: AuditReply }> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', body, headers: { 'content-type': type, ...bearer(token) } });
  return { status: res.status, body: (await res.json()) as AuditReply };
}

async function verify(tenant: string, token = 'demo-admin') {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/${tenant}/audit/verify`, { headers: bearer(token) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

test('one audit event is stored with its fields, a generated id and the first place in the chain', async () => {
  const r = await postAudit('demo-ingest-acme-dist', JSON.stringify(event()));
  assert.is(r.status, 200);
  assert.is(r.body.accepted, 1);
  const e = r.body.events[0]!;
  assert.is(e.status, 'stored');
  assert.is(e.seq, 1);
  assert.match(e.id!, /^[0-9a-f-]{36}$/);
  const [row] = await server.store.query<Record<string, any>>(
    "SELECT *, toString(toUnixTimestamp64Nano(time)) AS t FROM audit_events WHERE event_id = {id:String}",
    { id: e.id! },
  );
  assert.is(row!.tenant_id, 'acme-dist');
  assert.is(row!.t, '1795162530123456789');
  assert.is(row!.action, 'data.export');
  assert.is(row!.actor_type, 'user');
  assert.is(row!.target_id, 'orders-2026-q3');
  assert.is(row!.source_ip, '203.0.113.7');
  assert.equal(row!.attributes, { approval: 'CHG-5521', rows: '120440' });
  assert.is(row!.prev_hash, '');
  assert.is(row!.hash, e.hash);
  assert.equal(row!.flags, []);
});

test('a batch keeps its valid events and rejects each invalid one with its index and every schema error', async () => {
  const batch = [
    event({ id: 'evt-a1' }),
    event({ outcome: 'maybe', actor: { id: 'u-1', type: 'robot' } }),
    event({ id: 'evt-a3', action: 'privilege.grant' }),
    { time: 'yesterday' },
  ];
  const r = await postAudit('demo-ingest-acme-dist', JSON.stringify(batch));
  assert.is(r.status, 200);
  assert.is(r.body.accepted, 2);
  assert.is(r.body.rejected, 2);
  assert.equal(r.body.events.map((e) => [e.index, e.status]), [[0, 'stored'], [1, 'rejected'], [2, 'stored'], [3, 'rejected']]);
  const bad = r.body.events[1]!.errors!;
  assert.ok(bad.some((m) => m.startsWith('/outcome') && m.includes('"success"')), bad.join('\n'));
  assert.ok(bad.some((m) => m.startsWith('/actor/type') && m.includes('"support"')), bad.join('\n'));
  const worse = r.body.events[3]!.errors!;
  for (const field of ['actor', 'action', 'target', 'outcome']) assert.ok(worse.some((m) => m.includes(`"${field}"`)), `missing ${field}: ${worse.join('\n')}`);
  assert.ok(worse.some((m) => m.startsWith('/time')));
  assert.equal(r.body.events.filter((e) => e.status === 'stored').map((e) => e.id), ['evt-a1', 'evt-a3']);
});

test('NDJSON bodies are accepted, and a line that is not JSON is rejected alone', async () => {
  const body = [JSON.stringify(event({ id: 'nd-1' })), '{not json', JSON.stringify(event({ id: 'nd-3' }))].join('\n');
  const r = await postAudit('demo-ingest-acme-dist', body, 'application/x-ndjson');
  assert.is(r.status, 200);
  assert.equal(r.body.events.map((e) => e.status), ['stored', 'rejected', 'stored']);
  assert.match(r.body.events[1]!.errors![0]!, /line 2 is not JSON/);
});

test("an event whose target names another tenant is kept under the token's tenant and flagged", async () => {
  const r = await postAudit('demo-ingest-hooli-wholesale', JSON.stringify(event({ actor: { id: 'svc-sync', type: 'service', tenant_id: 'hooli-wholesale' }, target: { type: 'bucket', id: 'exports', tenant_id: 'acme-dist' } })));
  assert.is(r.status, 200);
  assert.equal(r.body.events[0]!.flags, ['cross_tenant_target']);
  const [row] = await server.store.query<{ tenant_id: string; target_tenant_id: string; flags: string[] }>(
    'SELECT tenant_id, target_tenant_id, flags FROM audit_events WHERE event_id = {id:String}',
    { id: r.body.events[0]!.id! },
  );
  assert.equal(row, { tenant_id: 'hooli-wholesale', target_tenant_id: 'acme-dist', flags: ['cross_tenant_target'] });
});

test('a request with no valid event is a 400 that still lists every event', async () => {
  const r = await postAudit('demo-ingest-acme-dist', JSON.stringify([{ action: 'x' }, { time: 1 }]));
  assert.is(r.status, 400);
  assert.is(r.body.error!.code, 'TS_ERR_AUDIT_INVALID');
  assert.is(r.body.events.length, 2);
});

test('bad audit requests get a clear error: not JSON, wrong type, no token, a read token, too many events', async () => {
  assert.is((await postAudit('demo-ingest-acme-dist', '[{')).body.error!.code, 'TS_ERR_AUDIT_BODY');
  const wrongType = await postAudit('demo-ingest-acme-dist', 'x', 'text/plain');
  assert.is(wrongType.status, 415);
  const noToken = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.is(noToken.status, 401);
  assert.is((await postAudit('demo-read-acme-dist', JSON.stringify(event()))).status, 403);
  const flood = await postAudit('demo-ingest-acme-dist', JSON.stringify(Array.from({ length: 10_001 }, () => ({}))));
  assert.is(flood.status, 400);
  assert.match(flood.body.error!.message, /at most 10000/);
});

test('hostile values are rejected by the schema or stored as inert data', async () => {
  const nested = await postAudit('demo-ingest-acme-dist', JSON.stringify(event({ attributes: { deep: { a: { b: 1 } } } })));
  assert.is(nested.status, 400);
  const evil = "'); DROP TABLE audit_events; --";
  const inj = await postAudit('demo-ingest-acme-dist', JSON.stringify(event({ id: 'inj-1', attributes: { [evil]: evil } })));
  assert.is(inj.status, 200);
  const [row] = await server.store.query<{ v: string }>('SELECT attributes[{k:String}] AS v FROM audit_events WHERE event_id = {id:String}', { k: evil, id: 'inj-1' });
  assert.is(row!.v, evil);
  const unknownField = await postAudit('demo-ingest-acme-dist', JSON.stringify(event({ tenant_id: 'globex-3pl' })));
  assert.is(unknownField.status, 400, 'an event cannot name its own tenant');
});

test('concurrent requests of one tenant form one unbroken chain', async () => {
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => postAudit('demo-ingest-initech-retail', JSON.stringify([event({ id: `c-${i}-a`, actor: { id: 'u', type: 'user', tenant_id: 'initech-retail' } }), event({ id: `c-${i}-b` })]))),
  );
  const v = await verify('initech-retail');
  assert.is(v.status, 200);
  assert.is(v.body.status, 'ok');
  assert.is(v.body.events, 40);
  assert.is(v.body.segments.length, 1);
  assert.is(v.body.segments[0].head_seq, 40);
});

test('two writers append to their own segments and verification walks both', async () => {
  const otherNode = new AuditIngest(server.registry, new ChainWriter(server.store, 'node-second'), async (_table, rows) => {
    await insertChunk(server.store, rows);
  });
  const principal = server.registry.authenticate('demo-ingest-umbrella-pharma')!;
  for (let i = 0; i < 3; i++) {
    await postAudit('demo-ingest-umbrella-pharma', JSON.stringify(event({ id: `seg-a-${i}` })));
    await otherNode.ingest(principal, Buffer.from(JSON.stringify(event({ id: `seg-b-${i}` }))), 'json');
  }
  const v = await verify('umbrella-pharma', 'demo-auditor');
  assert.is(v.status, 200);
  assert.is(v.body.status, 'ok');
  assert.is(v.body.events, 6);
  assert.equal(v.body.segments.map((s: { events: number }) => s.events), [3, 3]);
});

test('an event changed in chDB after it was stored is named as the first broken link', async () => {
  const r = await postAudit('demo-ingest-stark-logistics', JSON.stringify(Array.from({ length: 5 }, (_, i) => event({ id: `t-${i}` }))));
  assert.is(r.body.accepted, 5);
  await server.store.exec("ALTER TABLE audit_events UPDATE action = 'data.read' WHERE event_id = 't-2' SETTINGS mutations_sync = 2");
  const v = await verify('stark-logistics');
  assert.is(v.body.status, 'broken');
  assert.is(v.body.broken.event_id, 't-2');
  assert.is(v.body.broken.reason, 'hash_mismatch');
  assert.is(v.body.broken.found_hash, r.body.events[2]!.hash);
  assert.is.not(v.body.broken.expected_hash, v.body.broken.found_hash);
});

test('an event deleted from chDB is caught at the next event, naming the gap', async () => {
  const r = await postAudit('demo-ingest-globex-3pl', JSON.stringify(Array.from({ length: 5 }, (_, i) => event({ id: `d-${i}` }))));
  assert.is(r.body.accepted, 5);
  await server.store.exec("ALTER TABLE audit_events DELETE WHERE event_id = 'd-1' SETTINGS mutations_sync = 2");
  const v = await verify('globex-3pl');
  assert.is(v.body.status, 'broken');
  assert.is(v.body.broken.reason, 'missing_events');
  assert.is(v.body.broken.event_id, 'd-2');
  assert.is(v.body.broken.seq, 3);
  assert.match(v.body.broken.detail, /events 2\.\.2/);
  assert.is(v.body.broken.expected_hash, r.body.events[0]!.hash);
  assert.is(v.body.broken.found_hash, r.body.events[1]!.hash);
});

test('verifying from the heads of an earlier check walks only the new links: same answer as a full walk, a changed new event found, an older one left to the full walk', async () => {
  const post = async (ids: string[]) => assert.is((await postAudit('demo-ingest-hooli-wholesale', JSON.stringify(ids.map((id) => event({ id }))))).body.accepted, ids.length);
  await post(['i-0', 'i-1', 'i-2']);
  const first = await verifyChain(server.store, 'hooli-wholesale');
  assert.is(first.status, 'ok');
  await post(['i-3', 'i-4']);
  const incremental = await verifyChain(server.store, 'hooli-wholesale', first.segments);
  assert.equal(incremental, await verifyChain(server.store, 'hooli-wholesale'));
  await post(['i-5', 'i-6']);
  await server.store.exec("ALTER TABLE audit_events UPDATE action = 'data.read' WHERE event_id IN ('i-1', 'i-6') SETTINGS mutations_sync = 2");
  const late = await verifyChain(server.store, 'hooli-wholesale', incremental.segments);
  assert.is(late.status === 'broken' && late.broken.event_id, 'i-6');
  const full = await verifyChain(server.store, 'hooli-wholesale');
  assert.is(full.status === 'broken' && full.broken.event_id, 'i-1');
});

test('audit verify is open to read, auditor and admin tokens within their tenants only', async () => {
  assert.is((await verify('acme-dist', 'demo-read-acme-dist')).status, 200);
  assert.is((await verify('acme-dist', 'demo-auditor')).status, 200);
  assert.is((await verify('stark-logistics', 'demo-auditor')).status, 403);
  assert.is((await verify('acme-dist', 'demo-read-hooli-wholesale')).status, 403);
  assert.is((await verify('acme-dist', 'demo-ingest-acme-dist')).status, 403);
});

test('tenantscope audit verify --api answers ok for an intact chain and exits 1 naming a broken one', async () => {
  const ok = await cli(['audit', 'verify', '--tenant', 'initech-retail', '--api', server.apiUrl, '--token', 'demo-read-initech-retail']);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(JSON.parse(ok.stdout).status, 'ok');
  const broken = await cli(['audit', 'verify', '--tenant', 'stark-logistics', '--api', server.apiUrl, '--token', 'demo-admin']);
  assert.is(broken.code, 1);
  assert.is(JSON.parse(broken.stdout).broken.event_id, 't-2');
  const denied = await cli(['audit', 'verify', '--tenant', 'stark-logistics', '--api', server.apiUrl, '--token', 'demo-auditor']);
  assert.is(denied.code, 2);
  assert.match(denied.stderr, /TS_ERR_FORBIDDEN/);
});

test('tenantscope audit verify on a data directory a running server holds says so', async () => {
  const r = await cli(['audit', 'verify', '--tenant', 'acme-dist', '--data-dir', server.dataDir]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /TS_ERR_STORE_LOCKED/);
  assert.match(r.stderr, /--api/);
});

test.run();

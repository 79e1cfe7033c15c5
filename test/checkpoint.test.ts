// Audit chain checkpoints: the server signs the head of every segment of every tenant with the
// evidence key into <data-dir>/checkpoints and the outside --checkpoint-dir; `audit verify`
// (API and CLI) checks each segment against the latest checkpoint and reports `truncated`,
// naming the segment and the range gone, where the bare hash chain still verifies. Tampered
// checkpoint files are refused with their reason; a tenant sees only its own heads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import canonicalize from 'canonicalize';
import { pino } from 'pino';
import { insertChunk } from '../src/store/index.js';
import { ChainWriter, verifyChain, type VerifyResult } from '../src/ingest/audit/chain.js';
import { AuditIngest } from '../src/ingest/audit/ingest.js';
import { checkpointJson, readCheckpoints, takeCheckpoint, verifyCheckpoint, verifyWithCheckpoint, type Checkpoint } from '../src/ingest/audit/checkpoint.js';
import { Checkpointer } from '../src/ingest/audit/checkpointer.js';
import { loadEvidenceSigner } from '../src/reports/evidence-sign.js';
import type { SignedEvidence } from '../src/reports/evidence-sign.js';
import type { EvidencePublicKey } from '../src/http/evidence.js';
import { nodeId } from '../src/node-id.js';
import { startTestServer, bearer, type TestServer } from './support/server.js';
import { cliResult } from './support/cli.js';
import { auditEvent } from './support/audit.js';

let server: TestServer;
let node: string;
let key: EvidencePublicKey;
const tmp = mkdtempSync(join(tmpdir(), 'tenantscope-checkpoint-'));
/** The outside --checkpoint-dir (another disk, a bucket). */
const outside = join(tmp, 'outside');

test.before(async () => {
  mkdirSync(outside);
  server = await startTestServer({ checkpointDir: outside, policies: 'off' });
  node = nodeId(server.dataDir);
  key = (await (await fetch(`${server.apiUrl}/api/v1/evidence/public-key`)).json()) as EvidencePublicKey;
});

test.after(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const dataCheckpoints = () => join(server.dataDir, 'checkpoints');

async function post(tenant: string, ids: string[]): Promise<Array<{ seq: number; hash: string }>> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(`demo-ingest-${tenant}`) },
    body: JSON.stringify(ids.map((id) => auditEvent({ id, actor: { id: 'u-1', type: 'user' }, target: { type: 'dataset', id: 'orders' } }))),
  });
  const body = (await res.json()) as { accepted: number; events: Array<{ seq: number; hash: string }> };
  assert.is(body.accepted, ids.length);
  return body.events;
}

/** Take a checkpoint once every acknowledged event is in the store; its document as written. */
async function checkpointNow(): Promise<{ file: string; text: string; doc: Checkpoint }> {
  await server.settle();
  const w = await server.checkpoint();
  const text = readFileSync(join(dataCheckpoints(), w.file), 'utf8');
  return { file: w.file, text, doc: JSON.parse(text) as Checkpoint };
}

async function deleteEvents(ids: string[]): Promise<void> {
  await server.store.exec('ALTER TABLE audit_events DELETE WHERE event_id IN {ids:Array(String)} SETTINGS mutations_sync = 2', { ids });
}

async function verifyApi(tenant: string, token: string): Promise<{ status: number; text: string; body: VerifyResult }> {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/${tenant}/audit/verify`, { headers: bearer(token) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as VerifyResult };
}

const reading = () => readCheckpoints(server.dataDir, outside);

let first: { file: string; text: string; doc: Checkpoint };
let stark: Array<{ seq: number; hash: string }>;

test('a checkpoint signs the head of every segment of every tenant with the evidence key, and the outside directory gets the same file', async () => {
  await post('acme-dist', ['a-1', 'a-2', 'a-3']);
  await post('globex-3pl', ['g-1', 'g-2']);
  // A second node's segment of acme-dist.
  const otherNode = new AuditIngest(server.registry, new ChainWriter(server.store, 'node-second'), async (_t, rows) => void (await insertChunk(server.store, rows)));
  await otherNode.ingest(server.registry.authenticate('demo-ingest-acme-dist')!, Buffer.from(JSON.stringify([auditEvent({ id: 'b-1' }), auditEvent({ id: 'b-2' })])), 'json');

  first = await checkpointNow();
  assert.match(first.file, new RegExp(`^\\d{8}T\\d{9}Z-${node}\\.json$`));
  assert.is(readFileSync(join(outside, first.file), 'utf8'), first.text);
  const c = first.doc.checkpoint;
  assert.equal([c.format, c.node_id, c.key_id, first.doc.signature.key_id], ['tenantscope-checkpoint/1', node, key.key_id, key.key_id]);
  assert.is(first.file, `${c.time.replace(/[-:.]/g, '')}-${node}.json`);
  // Ed25519 over the RFC 8785 canonical form of the checkpoint, by the key the server publishes.
  assert.ok(verifySignature(null, Buffer.from(canonicalize(c)!), createPublicKey(key.public_key), Buffer.from(first.doc.signature.value, 'base64')));
  assert.ok(verifyCheckpoint(first.text, key.public_key, first.file).valid);

  const stored = await server.store.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM audit_events ORDER BY tenant_id');
  assert.equal(Object.keys(c.tenants), stored.map((r) => r.tenant_id));
  assert.equal(c.tenants['acme-dist']!.map((s) => s.segment_id).sort(), [node, 'node-second'].sort());
  // Every head is what walking the chain gives.
  for (const [tenant, segments] of Object.entries(c.tenants)) assert.equal(segments, (await verifyChain(server.store, tenant)).segments, tenant);
});

test('deleting the newest events of a segment after a checkpoint makes audit verify report truncated, naming the segment and the range gone, where the bare chain verifies', async () => {
  stark = await post('stark-logistics', ['s-1', 's-2', 's-3', 's-4', 's-5', 's-6']);
  const cp = await checkpointNow();
  await deleteEvents(['s-5', 's-6']);

  const bare = await verifyChain(server.store, 'stark-logistics');
  assert.equal([bare.status, bare.events, bare.segments[0]!.head_seq], ['ok', 4, 4], 'a bare hash chain cannot see a deleted tail');

  const v = await verifyApi('stark-logistics', 'demo-admin');
  assert.is(v.status, 200);
  assert.is(v.body.status, 'truncated');
  const t = v.body.status === 'truncated' ? v.body.truncated : [];
  assert.is(t.length, 1);
  assert.equal(
    { ...t[0]!, detail: '' },
    { segment_id: node, reason: 'missing', from_seq: 5, to_seq: 6, checkpoint_head_seq: 6, checkpoint_head_hash: stark[5]!.hash, checkpointed_at: cp.doc.checkpoint.time, stored_head_seq: 4, found_hash: '', detail: '' },
  );
  assert.match(t[0]!.detail, new RegExp(`events 5\\.\\.6 of segment ${node} are gone`));
  assert.is(v.body.checkpoint!.latest!.file, cp.file);

  // That read was chained after the deleted head: now a gap inside the chain too. Broken wins,
  // and the truncation is still named.
  const again = await verifyApi('stark-logistics', 'demo-admin');
  assert.is(again.body.status, 'broken');
  assert.equal(again.body.status === 'broken' && again.body.truncated?.map((x) => [x.from_seq, x.to_seq]), [[5, 6]]);
});

test('the next checkpoint carries the lost head forward, so waiting for it hides nothing', async () => {
  const before = reading().latest!.checkpoint.checkpoint.time;
  const next = await checkpointNow();
  const segments = next.doc.checkpoint.tenants['stark-logistics']!;
  const carried = segments.find((s) => s.carried_from !== undefined)!;
  assert.equal(carried, { segment_id: node, events: 6, head_seq: 6, head_hash: stark[5]!.hash, carried_from: before });
  assert.ok(segments.some((s) => s.carried_from === undefined && s.head_seq > 6), 'the current head is signed beside it');
  const r = await verifyWithCheckpoint(server.store, 'stark-logistics', reading());
  assert.ok(r.status !== 'ok', r.status);
  assert.equal(r.truncated?.map((x) => [x.from_seq, x.to_seq, x.checkpointed_at]), [[5, 6, before]]);
});

test('events that take the place of checkpointed ones, as after a restart from a shortened head, are reported as replaced', async () => {
  await post('umbrella-pharma', ['u-1', 'u-2', 'u-3', 'u-4']);
  const cp = await checkpointNow();
  const checkpointed = cp.doc.checkpoint.tenants['umbrella-pharma']!.find((s) => s.segment_id === node)!;
  await deleteEvents(['u-3', 'u-4']);
  // A writer that starts afresh continues from the shortened head: seqs 3 and 4 again.
  const restarted = new AuditIngest(server.registry, new ChainWriter(server.store, node), async (_t, rows) => void (await insertChunk(server.store, rows)));
  const principal = server.registry.authenticate('demo-ingest-umbrella-pharma')!;
  await restarted.ingest(principal, Buffer.from(JSON.stringify(['u-5', 'u-6', 'u-7'].map((id) => auditEvent({ id, actor: { id: 'u-1', type: 'user' }, target: { type: 'dataset', id: 'x' } })))), 'json');

  const bare = await verifyChain(server.store, 'umbrella-pharma');
  assert.equal([bare.status, bare.events], ['ok', 5]);
  const r = await verifyWithCheckpoint(server.store, 'umbrella-pharma', reading());
  assert.is(r.status, 'truncated');
  const t = r.status === 'truncated' ? r.truncated[0]! : undefined;
  const [now] = await server.store.query<{ hash: string }>("SELECT hash FROM audit_events WHERE tenant_id = 'umbrella-pharma' AND seq = 4");
  assert.equal([t?.reason, t?.from_seq, t?.to_seq, t?.stored_head_seq, t?.found_hash, t?.checkpoint_head_hash], ['replaced', 3, 4, 5, now!.hash, checkpointed.head_hash]);
  assert.match(t!.detail, /events received after the checkpoint hold seqs 3\.\.4/);
});

test('a checkpoint file changed by one byte is refused with its reason, and the intact copy outside the data directory is used instead', async () => {
  const latest = reading().latest!;
  const mine = join(dataCheckpoints(), latest.file);
  const theirs = join(outside, latest.file);
  const original = readFileSync(mine, 'utf8');
  const at = original.indexOf('"head_hash": "') + '"head_hash": "'.length;
  const changed = `${original.slice(0, at)}${original[at] === 'a' ? 'b' : 'a'}${original.slice(at + 1)}`;
  try {
    writeFileSync(mine, changed);
    const r = reading();
    assert.equal([r.latest?.file, r.latest?.source], [latest.file, 'checkpoint_dir']);
    assert.equal(r.refused.map((x) => [x.file, x.source, x.reason]), [[latest.file, 'data_dir', 'signature_mismatch']]);
    assert.match(r.refused[0]!.message, /changed after it was signed/);

    // Both copies changed (one a byte of spacing): the checkpoint before it is the latest.
    writeFileSync(theirs, original.replace('{\n  "checkpoint"', '{\n   "checkpoint"'));
    const both = reading();
    assert.is.not(both.latest?.file, latest.file);
    assert.equal(both.refused.map((x) => [x.source, x.reason]), [['data_dir', 'signature_mismatch'], ['checkpoint_dir', 'not_as_written']]);
    // The API reports what it refused.
    const v = await verifyApi('acme-dist', 'demo-read-acme-dist');
    assert.equal(v.body.checkpoint!.refused.map((x) => x.reason), ['signature_mismatch', 'not_as_written']);
  } finally {
    writeFileSync(mine, original);
    writeFileSync(theirs, original);
  }
  assert.equal(reading().refused, []);
});

test('a checkpoint signed by another key, or an old one renamed to look newest, is refused', async () => {
  const forger = loadEvidenceSigner({ dataDir: join(tmp, 'forger') });
  const forged = (await takeCheckpoint(server.store, forger, node, undefined, Date.now() + 60_000)).checkpoint;
  const forgedName = `${forged.checkpoint.time.replace(/[-:.]/g, '')}-${node}.json`;
  const r = verifyCheckpoint(checkpointJson(forged), key.public_key, forgedName);
  assert.equal(r.valid ? 'valid' : r.reason, 'key_mismatch');
  const renamed = `${new Date(Date.now() + 120_000).toISOString().replace(/[-:.]/g, '')}-${node}.json`;
  try {
    writeFileSync(join(dataCheckpoints(), forgedName), checkpointJson(forged));
    writeFileSync(join(dataCheckpoints(), renamed), first.text);
    const read = reading();
    assert.equal(read.refused.map((x) => [x.file, x.reason]), [[renamed, 'not_as_named'], [forgedName, 'key_mismatch']]);
    assert.is.not(read.latest?.file, forgedName);
  } finally {
    rmSync(join(dataCheckpoints(), forgedName));
    rmSync(join(dataCheckpoints(), renamed));
  }
});

test("a tenant's token sees only its own heads through audit verify, never another tenant's", async () => {
  const latest = reading().latest!.checkpoint.checkpoint;
  const v = await verifyApi('acme-dist', 'demo-read-acme-dist');
  assert.is(v.status, 200);
  assert.equal(v.body.checkpoint!.latest!.segments, latest.tenants['acme-dist']);
  for (const [tenant, segments] of Object.entries(latest.tenants)) {
    if (tenant === 'acme-dist') continue;
    assert.not.ok(v.text.includes(tenant), `names ${tenant}`);
    for (const s of segments) assert.not.ok(v.text.includes(s.head_hash), `holds a head of ${tenant}`);
  }
  assert.is((await verifyApi('globex-3pl', 'demo-read-acme-dist')).status, 403);
});

test("the evidence report holds its tenant's part of the latest checkpoint, in its JSON and on its page", async () => {
  const latest = reading().latest!;
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/evidence`, { headers: bearer('demo-auditor') });
  const text = await res.text();
  assert.is(res.status, 200, text.slice(0, 300));
  const report = (JSON.parse(text) as SignedEvidence).report;
  const cp = report.checkpoint!.latest!;
  assert.equal([cp.file, cp.time, cp.node_id, cp.key_id, cp.source], [latest.file, latest.checkpoint.checkpoint.time, node, key.key_id, 'data_dir']);
  assert.is(cp.sha256, latest.sha256);
  assert.equal(cp.segments, latest.checkpoint.checkpoint.tenants['acme-dist']);
  assert.is(report.audit_chain.status, 'ok');
  assert.equal(report.controls.find((c) => c.control === 'audit_chain')!.evidence.latest_checkpoint, cp.time);
  for (const [tenant, segments] of Object.entries(latest.checkpoint.checkpoint.tenants)) {
    if (tenant !== 'acme-dist') for (const s of segments) assert.not.ok(text.includes(s.head_hash), `holds a head of ${tenant}`);
  }
  const page = await (await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/evidence?format=html`, { headers: bearer('demo-auditor') })).text();
  assert.ok(page.includes('<section id="checkpoint">') && page.includes(latest.file));
});

test('a failing write to the outside directory is logged with its context, and the file is written there at the next checkpoint, also after a restart', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const dataDir = join(tmp, 'retry-data');
  const notMounted = join(tmp, 'not-mounted');
  const opts = { store: server.store, signer: loadEvidenceSigner({ dataDir: server.dataDir }), nodeId: 'node-retry', dataDir, outsideDir: notMounted, intervalMs: 0, log };
  const c = new Checkpointer(opts);
  c.start();
  const missed = await c.take();
  assert.equal([missed.written, missed.failed.map((f) => f.dir)], [[join(dataDir, 'checkpoints', missed.file)], [notMounted]]);
  const logged = lines.find((l) => l.msg === 'checkpoint not written; trying again next interval')!;
  assert.ok(logged, JSON.stringify(lines));
  assert.equal([logged.level, logged.code, logged.file, logged.dir, logged.errno], [50, 'TS_ERR_CHECKPOINT', missed.file, notMounted, 'ENOENT']);

  mkdirSync(notMounted);
  const next = await c.take();
  assert.equal(readdirSync(notMounted).sort(), [missed.file, next.file].sort());
  for (const f of [missed.file, next.file]) assert.is(readFileSync(join(notMounted, f), 'utf8'), readFileSync(join(dataDir, 'checkpoints', f), 'utf8'));
  await c.stop(false);

  // A copy lost while the node was down is written again by the next run after a start.
  rmSync(join(notMounted, missed.file));
  const restarted = new Checkpointer(opts);
  restarted.start();
  await restarted.take();
  assert.ok(readdirSync(notMounted).includes(missed.file));
  await restarted.stop(false);
});

test('tenantscope audit verify on the data directory checks the shutdown checkpoint and exits 1 naming the truncated segment; with the data dir\'s checkpoints gone, --checkpoint-dir still sees it, and so does evidence', async () => {
  const hooli = await post('hooli-wholesale', ['h-1', 'h-2', 'h-3']);
  await checkpointNow();
  await deleteEvents(['h-3']);
  const before = new Set(readdirSync(dataCheckpoints()));
  await server.close();
  const atShutdown = readdirSync(dataCheckpoints()).filter((f) => !before.has(f));
  assert.is(atShutdown.length, 1, 'a checkpoint at clean shutdown');
  const last = JSON.parse(readFileSync(join(dataCheckpoints(), atShutdown[0]!), 'utf8')) as Checkpoint;
  assert.ok(last.checkpoint.tenants['hooli-wholesale']!.some((s) => s.head_hash === hooli[2]!.hash && s.carried_from !== undefined));

  const env = { TENANTSCOPE_LOG_LEVEL: 'warn' };
  const args = ['audit', 'verify', '--tenant', 'hooli-wholesale', '--data-dir', server.dataDir];
  const local = await cliResult(args, env);
  assert.is(local.code, 1, local.stderr);
  const result = JSON.parse(local.stdout) as VerifyResult;
  assert.is(result.status, 'truncated');
  assert.equal(result.status === 'truncated' && result.truncated.map((t) => [t.segment_id, t.from_seq, t.to_seq]), [[node, 3, 3]]);
  assert.is(result.checkpoint!.latest!.file, atShutdown[0]);

  rmSync(dataCheckpoints(), { recursive: true });
  const blind = await cliResult(args, env);
  assert.is(blind.code, 0, blind.stderr);
  assert.is((JSON.parse(blind.stdout) as VerifyResult).status, 'ok');
  assert.match(blind.stderr, /no signed checkpoint found/);
  const withOutside = await cliResult([...args, '--checkpoint-dir', outside], env);
  assert.is(withOutside.code, 1, withOutside.stderr);
  assert.is((JSON.parse(withOutside.stdout) as VerifyResult).checkpoint!.latest!.source, 'checkpoint_dir');

  // Evidence written from the data dir is checked against the same checkpoint.
  const out = join(tmp, 'hooli.json');
  const evidence = await cliResult(['evidence', '--tenant', 'hooli-wholesale', '--data-dir', server.dataDir, '--checkpoint-dir', outside, '--out', out], env);
  assert.is(evidence.code, 0, evidence.stderr);
  const report = (JSON.parse(readFileSync(out, 'utf8')) as SignedEvidence).report;
  assert.equal([report.audit_chain.status, report.checkpoint?.latest?.file], ['truncated', atShutdown[0]]);
  assert.is(report.controls.find((c) => c.control === 'audit_chain')!.status, 'fail');
});

test.run();

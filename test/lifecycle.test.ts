// Tenant lifecycle on the embedded store: export a tenant as a signed bundle, erase it, restore
// it, rehearse a restore, and prove each time that no other tenant's rows moved.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, bearer, DEMO_CONFIG } from './support/server.js';
import { protobufTraces } from './support/otlp.js';
import { auditEvent } from './support/audit.js';
import { withLifecycle, type LifecycleContext } from '../src/lifecycle/offline.js';
import { exportTenant } from '../src/lifecycle/export.js';
import { restoreTenant } from '../src/lifecycle/restore.js';
import { eraseTenant, PLATFORM_CHAIN } from '../src/lifecycle/erase.js';
import { isolationChanges, isolationSnapshot, tenantFingerprints } from '../src/lifecycle/tables.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { spanRows } from '../src/ingest/rows.js';
import { insertChunk } from '../src/store/index.js';
import { checkBundle } from '../src/lifecycle/bundle.js';
import { verifyChain } from '../src/ingest/audit/chain.js';
import { EvidenceSigner, detachedSignatureProblem, signDetached } from '../src/reports/evidence-sign.js';
import { isTenantscopeError } from '../src/errors.js';
import { recoveryReport } from '../src/reports/recovery.js';
import { standaloneRecoveryJudge } from '../src/policy/recovery-judge.js';
import { checkpointsDir, readCheckpoints, takeCheckpoint, verifyWithCheckpoint, writeCheckpoint } from '../src/ingest/audit/checkpoint.js';

const TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl', 'nakatomi-trading'];
let dataDir = '';
const scratch = mkdtempSync(join(tmpdir(), 'tenantscope-lifecycle-'));
let bundle = '';

test.before(async () => {
  const server = await startTestServer();
  dataDir = server.dataDir;
  for (const [i, tenant] of TENANTS.entries()) {
    const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      body: protobufTraces({ spans: 3 + i, resource: { 'service.name': `svc-${tenant}` } }),
      headers: { 'content-type': 'application/x-protobuf', ...bearer(`demo-ingest-${tenant}`) },
    });
    assert.is(res.status, 200);
  }
  const audit = await fetch(`${server.otlpHttpUrl}/v1/audit`, {
    method: 'POST',
    body: JSON.stringify([auditEvent(), auditEvent({ action: 'data.delete' })]),
    headers: { 'content-type': 'application/json', ...bearer('demo-ingest-acme-dist') },
  });
  assert.is(audit.status, 200);
  // Closed, not stopped: the data directory stays for the offline commands.
  await server.close();
});
test.after(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const lifecycle = <T>(fn: (ctx: LifecycleContext) => Promise<T>) => withLifecycle({ config: DEMO_CONFIG, dataDir }, fn);

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isTenantscopeError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

test("an export bundle holds only its tenant's rows, in every table, and its manifest is signed by the evidence key", async () => {
  bundle = join(scratch, 'acme');
  await lifecycle(async (ctx) => {
    const m = await exportTenant(ctx.store, { tenant: 'acme-dist', period: {}, outDir: bundle, signer: ctx.signer });
    const spans = m.files.find((f) => f.table === 'spans')!;
    assert.is(spans.rows, 3);
    assert.is(m.files.find((f) => f.table === 'audit_events')!.rows, 2);
    assert.ok(m.files.find((f) => f.table === 'ingest_usage')!.rows >= 1);
    for (const f of m.files) {
      const tenants = await ctx.store.query<{ t: string }>(`SELECT DISTINCT toString(tenant_id) AS t FROM file('${join(bundle, f.file)}', Parquet)`);
      assert.ok(tenants.every((r) => r.t === 'acme-dist'), `${f.file} holds only acme-dist rows`);
      assert.is(tenants.length > 0, f.rows > 0, `${f.file}: rows as the manifest says`);
    }
    // Every value of every file, as text: no other tenant's id, name or identifier anywhere.
    for (const f of m.files) {
      const rows = await ctx.store.query<{ r: string }>(`SELECT formatRow('TabSeparated', *) AS r FROM file('${join(bundle, f.file)}', Parquet)`);
      const text = rows.map((x) => x.r).join('').toLowerCase();
      if (f.rows > 0) assert.ok(text.includes('acme-dist'), `${f.file}: the scan reads the values (the tenant's own id is there)`);
      for (const other of ctx.registry.tenants().filter((t) => t.id !== 'acme-dist')) {
        for (const name of [other.id, other.name, ...other.identifiers]) assert.not.ok(text.includes(name.toLowerCase()), `${f.file} mentions ${other.id} (${name})`);
      }
    }
    const checked = await checkBundle(bundle, ctx.signer.publicKeyPem);
    assert.not.ok('problem' in checked, 'problem' in checked ? checked.problem : '');
  });
  const text = readFileSync(join(bundle, 'spans.parquet'));
  for (const other of TENANTS.filter((t) => t !== 'acme-dist')) assert.not.ok(text.includes(`svc-${other}`), `no ${other} service name in the spans file`);
});

test('export, erase, restore gives back every per-table fingerprint exactly, and no other tenant moves', async () => {
  await lifecycle(async (ctx) => {
    const before = await tenantFingerprints(ctx.store, TENANTS);
    const erased = await eraseTenant(ctx.store, { registry: ctx.registry, tenant: 'acme-dist', confirm: 'acme-dist', operator: ctx.actor, signer: ctx.signer, platformAudit: ctx.platformAudit, certificateDir: join(dataDir, 'erasures') });
    assert.ok(erased.certificate.tables.every((t) => t.rows_after === 0));
    assert.ok(erased.certificate.tables.find((t) => t.table === 'spans')!.rows_before === 3);
    assert.ok(erased.certificate.others_unchanged);
    const gone = await tenantFingerprints(ctx.store, TENANTS);
    assert.ok(Object.values(gone['acme-dist']!).every((f) => f.startsWith('0:')), 'nothing of acme-dist is left');
    const report = await restoreTenant(ctx.store, bundle, { registry: ctx.registry, trustedKey: ctx.signer.publicKeyPem, actor: ctx.actor, audit: ctx.audit });
    assert.is(report.outcome, 'success');
    assert.ok(report.others_unchanged);
    assert.is(report.audit_chain, 'ok');
    const after = await tenantFingerprints(ctx.store, TENANTS);
    for (const t of TENANTS.filter((x) => x !== 'acme-dist')) assert.equal(after[t], before[t], `${t} unchanged`);
    // The restore's own audit event joins the chain after the restored events.
    const { audit_events, ...rest } = after['acme-dist']!;
    const { audit_events: auditBefore, ...restBefore } = before['acme-dist']!;
    assert.equal(rest, restBefore, 'telemetry, usage, rollup and findings as before');
    assert.is(Number(audit_events!.split(':')[0]), Number(auditBefore!.split(':')[0]) + 1, 'the restored events plus the restore itself');
  });
});

test('restoring the same bundle twice stores nothing twice', async () => {
  await lifecycle(async (ctx) => {
    const before = await tenantFingerprints(ctx.store, ['acme-dist']);
    const report = await restoreTenant(ctx.store, bundle, { registry: ctx.registry, trustedKey: ctx.signer.publicKeyPem, actor: ctx.actor, audit: ctx.audit });
    assert.is(report.outcome, 'success');
    assert.ok(report.tables.every((t) => t.rows_before === t.rows_after));
    const after = await tenantFingerprints(ctx.store, ['acme-dist']);
    const { audit_events: a1, ...r1 } = after['acme-dist']!;
    const { audit_events: a0, ...r0 } = before['acme-dist']!;
    assert.equal(r1, r0);
    assert.is(Number(a1!.split(':')[0]), Number(a0!.split(':')[0]) + 1, 'only the second restore event is new');
  });
});

test('after a restore, audit verify passes and the restore itself is an event of the tenant', async () => {
  await lifecycle(async (ctx) => {
    const v = await verifyChain(ctx.store, 'acme-dist');
    assert.is(v.status, 'ok');
    const rows = await ctx.store.query<{ action: string }>("SELECT action FROM audit_events WHERE tenant_id = 'acme-dist' ORDER BY time");
    assert.ok(rows.some((r) => r.action === 'tenant.restored'));
  });
});

async function tampered(name: string, change: (dir: string) => void): Promise<string> {
  const dir = join(scratch, name);
  cpSync(bundle, dir, { recursive: true });
  change(dir);
  return dir;
}

for (const [what, change, expect] of [
  ['a byte changed in a Parquet file', (d: string) => { const f = join(d, 'spans.parquet'); const b = readFileSync(f); b[Math.floor(b.length / 2)] ^= 0xff; writeFileSync(f, b); }, /spans\.parquet has SHA-256/],
  ['an edited manifest', (d: string) => { const f = join(d, 'manifest.json'); writeFileSync(f, readFileSync(f, 'utf8').replace('"rows": 3', '"rows": 4')); }, /manifest\.json: the signature .* does not match/],
  ['a file the manifest does not list', (d: string) => writeFileSync(join(d, 'extra.parquet'), 'x'), /extra\.parquet is not part of the signed manifest/],
] as const) {
  test(`a bundle with ${what} is refused with its reason, and nothing is inserted`, async () => {
    const dir = await tampered(what.replace(/\W+/g, '-'), change);
    await lifecycle(async (ctx) => {
      await eraseTenant(ctx.store, { registry: ctx.registry, tenant: 'acme-dist', confirm: 'acme-dist', operator: ctx.actor, signer: ctx.signer, platformAudit: ctx.platformAudit, certificateDir: join(dataDir, 'erasures') });
      const r = await refusal(restoreTenant(ctx.store, dir, { registry: ctx.registry, trustedKey: ctx.signer.publicKeyPem, actor: ctx.actor, audit: ctx.audit }));
      assert.is(r.code, 'TS_ERR_BUNDLE');
      assert.match(r.message, expect);
      const left = await tenantFingerprints(ctx.store, ['acme-dist']);
      assert.ok(Object.values(left['acme-dist']!).every((f) => f.startsWith('0:')), 'nothing was inserted');
    });
  });
}

test('a bundle signed by another key is refused unless that key is the one trusted', async () => {
  const other = new EvidenceSigner(generateKeyPairSync('ed25519').privateKey, 'test');
  const dir = await tampered('other-key', (d) => {
    const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as object;
    writeFileSync(join(d, 'manifest.sig'), JSON.stringify(signDetached(other, manifest)));
  });
  await lifecycle(async (ctx) => {
    const r = await refusal(restoreTenant(ctx.store, dir, { registry: ctx.registry, trustedKey: ctx.signer.publicKeyPem, actor: ctx.actor, audit: ctx.audit }));
    assert.is(r.code, 'TS_ERR_BUNDLE');
    assert.match(r.message, /not by the supplied key/);
    const report = await restoreTenant(ctx.store, dir, { registry: ctx.registry, trustedKey: other.publicKeyPem, actor: ctx.actor, audit: ctx.audit });
    assert.is(report.outcome, 'success');
  });
});

test('a restore drill restores into a scratch database, matches the manifest, leaves the store as it was and records restore.tested', async () => {
  await lifecycle(async (ctx) => {
    const before = await tenantFingerprints(ctx.store, TENANTS.filter((t) => t !== 'acme-dist'));
    const report = await restoreTenant(ctx.store, bundle, { registry: ctx.registry, trustedKey: ctx.signer.publicKeyPem, actor: ctx.actor, audit: ctx.audit, verifyOnly: true });
    assert.is(report.mode, 'drill');
    assert.is(report.outcome, 'success');
    assert.ok(report.tables.every((t) => t.matches && t.rows_before === 0), 'the scratch copy starts empty and ends equal to the manifest');
    assert.equal(await tenantFingerprints(ctx.store, TENANTS.filter((t) => t !== 'acme-dist')), before);
    const dbs = await ctx.store.query<{ name: string }>("SELECT name FROM system.databases WHERE name LIKE 'tenantscope_drill_%'");
    assert.is(dbs.length, 0, 'the scratch database is gone');
    const ev = await ctx.store.query<{ outcome: string; attributes: Record<string, string> }>("SELECT outcome, attributes FROM audit_events WHERE tenant_id = 'acme-dist' AND action = 'restore.tested'");
    assert.is(ev.length, 1);
    assert.is(ev[0]!.outcome, 'success');
    assert.ok(Number(ev[0]!.attributes.duration_seconds) >= 0);
    assert.ok(Number(ev[0]!.attributes.verified_records) > 0);
    // tenantscope's own store is held to the same recovery policies: the drill is the tenant's restore test.
    const judge = standaloneRecoveryJudge(ctx.registry);
    const recovery = await recoveryReport(ctx.store, ctx.registry.tenant('acme-dist')!, {}, judge);
    assert.is(recovery.last_restore_test?.outcome, 'success');
    assert.is(recovery.last_restore_test?.component, 'database');
    assert.is(recovery.last_restore_test?.verified_records, report.verified_records);
    assert.ok(recovery.last_restore_test?.within_rto);
    assert.not.ok(recovery.findings.some((f) => f.rule.startsWith('restore_test')), JSON.stringify(recovery.findings.map((f) => f.rule)));
  });
});

test('a tenant under a legal hold is not erased, and nothing of it is deleted', async () => {
  await lifecycle(async (ctx) => {
    const before = await tenantFingerprints(ctx.store, ['umbrella-pharma']);
    const r = await refusal(eraseTenant(ctx.store, { registry: ctx.registry, tenant: 'umbrella-pharma', confirm: 'umbrella-pharma', operator: ctx.actor, signer: ctx.signer, platformAudit: ctx.platformAudit, certificateDir: join(dataDir, 'erasures') }));
    assert.is(r.code, 'TS_ERR_LEGAL_HOLD');
    assert.equal(await tenantFingerprints(ctx.store, ['umbrella-pharma']), before);
  });
});

test('an erase without the tenant id repeated as confirmation is refused', async () => {
  await lifecycle(async (ctx) => {
    const r = await refusal(eraseTenant(ctx.store, { registry: ctx.registry, tenant: 'globex-3pl', confirm: 'globex', operator: ctx.actor, signer: ctx.signer, platformAudit: ctx.platformAudit, certificateDir: join(dataDir, 'erasures') }));
    assert.is(r.code, 'TS_ERR_CONFIRM');
  });
});

test('an erasure certificate is signed, names rows before and after, and is an event of the platform chain that verifies', async () => {
  await lifecycle(async (ctx) => {
    const e = await eraseTenant(ctx.store, { registry: ctx.registry, tenant: 'globex-3pl', confirm: 'globex-3pl', operator: ctx.actor, signer: ctx.signer, platformAudit: ctx.platformAudit, certificateDir: join(dataDir, 'erasures'), exportManifestSha256: 'ab'.repeat(32) });
    assert.ok(existsSync(e.file));
    const doc = JSON.parse(readFileSync(e.file, 'utf8')) as { certificate: unknown; signature: unknown };
    assert.is(detachedSignatureProblem(doc.certificate, doc.signature, ctx.signer.publicKeyPem), undefined);
    assert.is(e.certificate.tables.find((t) => t.table === 'spans')!.rows_before, 8);
    assert.is(e.certificate.export_manifest_sha256, 'ab'.repeat(32));
    const v = await verifyChain(ctx.store, PLATFORM_CHAIN);
    assert.is(v.status, 'ok');
    const ev = await ctx.store.query<{ action: string; target_id: string }>(`SELECT action, target_id FROM audit_events WHERE tenant_id = '${PLATFORM_CHAIN}'`);
    assert.ok(ev.some((x) => x.action === 'tenant.erased' && x.target_id === 'globex-3pl'));
  });
});

test('a checkpointed head gone by a recorded erasure is no truncation, while a tail deleted otherwise still is', async () => {
  await lifecycle(async (ctx) => {
    const dir = checkpointsDir(dataDir);
    mkdirSync(dir, { recursive: true });
    writeCheckpoint((await takeCheckpoint(ctx.store, ctx.signer, 'test-node')).checkpoint, dir);
    await eraseTenant(ctx.store, { registry: ctx.registry, tenant: 'acme-dist', confirm: 'acme-dist', operator: ctx.actor, signer: ctx.signer, platformAudit: ctx.platformAudit, certificateDir: join(dataDir, 'erasures') });
    const afterErase = await verifyWithCheckpoint(ctx.store, 'acme-dist', readCheckpoints(dataDir, undefined, ctx.signer.publicKeyPem));
    assert.is(afterErase.status, 'ok', JSON.stringify(afterErase));
    await restoreTenant(ctx.store, bundle, { registry: ctx.registry, trustedKey: ctx.signer.publicKeyPem, actor: ctx.actor, audit: ctx.audit });
    await new Promise((r) => setTimeout(r, 5));
    writeCheckpoint((await takeCheckpoint(ctx.store, ctx.signer, 'test-node')).checkpoint, dir);
    await ctx.store.exec("ALTER TABLE audit_events DELETE WHERE tenant_id = 'acme-dist' AND action = 'tenant.restored' SETTINGS mutations_sync = 2");
    const cut = await verifyWithCheckpoint(ctx.store, 'acme-dist', readCheckpoints(dataDir, undefined, ctx.signer.publicKeyPem));
    assert.is(cut.status, 'truncated', JSON.stringify(cut));
  });
});

test("the isolation check ignores what other tenants' ingest adds meanwhile, and catches any other change to their rows", async () => {
  await lifecycle(async (ctx) => {
    const others = ['hooli-wholesale', 'initech-retail'];
    // The operation "began" a minute from now, so every row stored so far is well before it.
    const since = Date.now() + 60_000;
    const before = await isolationSnapshot(ctx.store, others, since);
    // hooli-wholesale's ingest goes on: new spans, received within the margin before the start.
    const decoded = decodeOtlp('traces', protobufTraces({ spans: 5, attributes: { 'db.client.connection.pool.name': 'pg' } }), 'protobuf');
    const rows = spanRows({ tenantId: 'hooli-wholesale', retentionDays: 30, batchId: 'later', receivedMs: since - 1_000 }, decoded.groups);
    await insertChunk(ctx.store, rows.chunk);
    await insertChunk(ctx.store, rows.sums!);
    assert.equal(await isolationChanges(ctx.store, before), []);
    // A row received before the operation began, deleted: that is a change.
    const again = await isolationSnapshot(ctx.store, others, since);
    await ctx.store.exec("ALTER TABLE spans DELETE WHERE tenant_id = 'initech-retail' AND batch_id != 'later' AND span_id IN (SELECT span_id FROM spans WHERE tenant_id = 'initech-retail' LIMIT 1) SETTINGS mutations_sync = 2");
    const changes = await isolationChanges(ctx.store, again);
    assert.is(changes.length, 1, changes.join('; '));
    assert.match(changes[0]!, /^spans of initech-retail/);
    // A folded row (the rollup) of another tenant gone: caught key by key.
    const third = await isolationSnapshot(ctx.store, others, since);
    await ctx.store.exec("ALTER TABLE resource_minutes DELETE WHERE tenant_id = 'initech-retail' SETTINGS mutations_sync = 2");
    const folded = await isolationChanges(ctx.store, third);
    assert.equal(folded.map((c) => c.replace(/\d+/, 'N')), ['resource_minutes: N row(s) gone']);
    const dbs = await ctx.store.query<{ name: string }>("SELECT name FROM system.databases WHERE name LIKE 'tenantscope_isolation_%'");
    assert.is(dbs.length, 0, 'the check leaves no scratch database behind');
  });
});

test.run();

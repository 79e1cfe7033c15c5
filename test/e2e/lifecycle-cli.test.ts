// The tenant lifecycle through the commands a platform operator runs: export over the API with
// an admin token (others refused), erase over the API, restore from the bundle into the stopped
// server's data directory, and the erasure in the platform chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliResult, serveCli, stopCli, type Serving } from '../support/cli.js';
import { DEMO_CONFIG, bearer } from '../support/server.js';
import { protobufTraces } from '../support/otlp.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-lifecycle-cli-'));
const work = mkdtempSync(join(tmpdir(), 'tenantscope-lifecycle-out-'));
let server: Serving;
const SERVE = ['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0'];

test.before(async () => {
  server = await serveCli(SERVE);
  for (const [tenant, spans] of [['acme-dist', 4], ['hooli-wholesale', 6]] as const) {
    const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', body: protobufTraces({ spans }), headers: { 'content-type': 'application/x-protobuf', ...bearer(`demo-ingest-${tenant}`) } });
    assert.is(res.status, 200);
  }
});
test.after(async () => {
  if (server) await stopCli(server).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const usage = async (tenant: string) =>
  ((await (await fetch(`${server.apiUrl}/api/v1/tenants/${tenant}/usage`, { headers: bearer('demo-admin') })).json()) as { spans: { count: number } }).spans.count;

test("only an admin token exports a tenant over the API; the tenant's own read token and the auditor are refused", async () => {
  for (const token of ['demo-read-acme-dist', 'demo-auditor']) {
    const r = await cliResult(['tenant', 'export', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', token, '--out', join(work, `refused-${token}`)]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /TS_ERR_(TOKEN_KIND|FORBIDDEN)/);
    assert.not.ok(existsSync(join(work, `refused-${token}`, 'manifest.json')));
  }
  const r = await cliResult(['tenant', 'export', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-admin', '--out', join(work, 'acme')]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(join(work, 'acme')).sort(), ['audit_events.parquet', 'ingest_usage.parquet', 'logs.parquet', 'manifest.json', 'manifest.sig', 'metric_points.parquet', 'redactions.parquet', 'resource_minutes.parquet', 'spans.parquet', 'violations.parquet']);
  const manifest = JSON.parse(readFileSync(join(work, 'acme', 'manifest.json'), 'utf8')) as { tenant: string; files: { table: string; rows: number }[] };
  assert.is(manifest.tenant, 'acme-dist');
  assert.is(manifest.files.find((f) => f.table === 'spans')!.rows, 4);
  // Checked anywhere, without a store, against the server's published key.
  const pem = join(work, 'server-key.pem');
  writeFileSync(pem, await (await fetch(`${server.apiUrl}/api/v1/evidence/public-key?format=pem`)).text());
  const ok = await cliResult(['tenant', 'verify', join(work, 'acme'), '--public-key', pem]);
  assert.is(ok.code, 0, ok.stdout + ok.stderr);
  assert.is((JSON.parse(ok.stdout) as { key_source: string }).key_source, 'supplied');
  cpSync(join(work, 'acme'), join(work, 'acme-changed'), { recursive: true });
  const f = join(work, 'acme-changed', 'ingest_usage.parquet');
  const b = readFileSync(f);
  b[10] ^= 1;
  writeFileSync(f, b);
  const changed = await cliResult(['tenant', 'verify', join(work, 'acme-changed'), '--public-key', pem]);
  assert.is(changed.code, 1);
  assert.match(changed.stdout, /ingest_usage\.parquet has SHA-256/);
});

test('an admin erases a tenant over the API with its id confirmed; the platform chain verifies and names the erasure', async () => {
  const unconfirmed = await cliResult(['tenant', 'erase', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-admin']);
  assert.is(unconfirmed.code, 2);
  assert.match(unconfirmed.stderr, /TS_ERR_CONFIRM/);
  assert.is(await usage('acme-dist'), 4);
  const r = await cliResult(['tenant', 'erase', '--tenant', 'acme-dist', '--confirm', 'acme-dist', '--export-manifest', join(work, 'acme', 'manifest.json'), '--api', server.apiUrl, '--token', 'demo-admin']);
  assert.is(r.code, 0, r.stderr);
  const cert = JSON.parse(r.stdout) as { certificate: { tables: { table: string; rows_before: number; rows_after: number }[]; others_unchanged: boolean; export_manifest_sha256: string } };
  assert.is(cert.certificate.tables.find((t) => t.table === 'spans')!.rows_before, 4);
  assert.ok(cert.certificate.tables.every((t) => t.rows_after === 0));
  assert.ok(cert.certificate.others_unchanged);
  assert.match(cert.certificate.export_manifest_sha256, /^[0-9a-f]{64}$/);
  assert.is(await usage('acme-dist'), 0);
  assert.is(await usage('hooli-wholesale'), 6);
  const v = await cliResult(['audit', 'verify', '--platform', '--api', server.apiUrl, '--token', 'demo-admin']);
  assert.is(v.code, 0, v.stdout + v.stderr);
  const refused = await cliResult(['audit', 'verify', '--platform', '--api', server.apiUrl, '--token', 'demo-read-hooli-wholesale']);
  assert.is(refused.code, 2);
});

test('the bundle restores into the stopped server\'s data directory, and the tenant reads as before when it serves again', async () => {
  await stopCli(server);
  const drill = await cliResult(['tenant', 'restore', join(work, 'acme'), '--verify-only', '--config', DEMO_CONFIG, '--data-dir', dataDir]);
  assert.is(drill.code, 0, drill.stdout + drill.stderr);
  assert.match(drill.stdout, /restore drill of acme-dist: success/);
  const r = await cliResult(['tenant', 'restore', join(work, 'acme'), '--json', '--config', DEMO_CONFIG, '--data-dir', dataDir]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { outcome: string; others_unchanged: boolean; audit_chain: string };
  assert.is(report.outcome, 'success');
  assert.ok(report.others_unchanged);
  assert.is(report.audit_chain, 'ok');
  server = await serveCli(SERVE);
  assert.is(await usage('acme-dist'), 4);
  const v = await cliResult(['audit', 'verify', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-read-acme-dist']);
  assert.is(v.code, 0, v.stdout + v.stderr);
  // The server signed a checkpoint when it stopped: a new export carries the tenant's part of it.
  const again = await cliResult(['tenant', 'export', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-admin', '--out', join(work, 'acme-again')]);
  assert.is(again.code, 0, again.stderr);
  const m = JSON.parse(readFileSync(join(work, 'acme-again', 'manifest.json'), 'utf8')) as { audit_chain: { checkpoint: { segments: { segment_id: string }[] } | null } };
  assert.ok(m.audit_chain.checkpoint && m.audit_chain.checkpoint.segments.length > 0, JSON.stringify(m.audit_chain));
  assert.not.ok(JSON.stringify(m.audit_chain.checkpoint).includes('hooli-wholesale'), "only the tenant's own heads");
});

test.run();

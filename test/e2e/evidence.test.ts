// Evidence end to end: two simulated days of the demo platform (globex-3pl's end-of-day burst,
// then acme-dist spans leaking globex-3pl's customer code), audit events of API reads as the
// access work records them, and findings from the streamed policies; then acme-dist's evidence
// read through the API as its users read it, checked against the per-topic routes, kept as
// files, and verified by `tenantscope evidence verify` in its own process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { simulate, type SimulationSummary } from '../../src/simulate/index.js';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { cliResult } from '../support/cli.js';
import { verifyEvidence, type SignedEvidence } from '../../src/reports/evidence-sign.js';
import type { EvidencePublicKey } from '../../src/http/evidence.js';
import type { SloReport } from '../../src/reports/slo.js';
import type { CostReport } from '../../src/reports/cost.js';
import type { RecoveryReport } from '../../src/reports/recovery.js';
import type { TenantIncident } from '../../src/reports/incidents.js';
import type { VerifyResult } from '../../src/ingest/audit/chain.js';
import type { Violation } from '../../src/policy/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const FROM = new Date(TODAY - 2 * DAY).toISOString();
// To the end of today, past now: the streamed findings are stamped when they are found. (An
// hour past now, as this was, ran into tomorrow after 23:00 UTC: a fourth day in the series.)
const TO = new Date(TODAY + DAY).toISOString();
const WINDOW = `from=${FROM}&to=${TO}`;
const EVIDENCE = `/api/v1/tenants/acme-dist/evidence?${WINDOW}`;

let server: TestServer;
let leak: SimulationSummary;
const tmp = mkdtempSync(join(tmpdir(), 'tenantscope-evidence-e2e-'));

/** API reads of acme-dist as the access work writes them to its chain (contract: action, actor, target, attributes). */
const READS = [
  { token: 'acme-dist read', kind: 'read', route: '/api/v1/tenants/:id/slo', outcome: 'success', at: TODAY - 2 * DAY + 9 * HOUR },
  { token: 'acme-dist read', kind: 'read', route: '/api/v1/tenants/:id/slo', outcome: 'success', at: TODAY - 2 * DAY + 10 * HOUR },
  { token: 'external auditor (Q3 SOC 2 + GxP review)', kind: 'auditor', route: '/api/v1/tenants/:id/evidence', outcome: 'success', at: TODAY - DAY + 8 * HOUR },
  { token: 'hooli-wholesale read', kind: 'read', route: '/api/v1/tenants/:id/cost', outcome: 'denied', at: TODAY - DAY + 9 * HOUR },
];

async function postAudit(events: unknown[]): Promise<void> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer('demo-ingest-acme-dist') }, body: JSON.stringify(events) });
  assert.is(res.status, 200, await res.clone().text());
  assert.is(((await res.json()) as { accepted: number }).accepted, events.length);
}

test.before(async () => {
  server = await startTestServer({ policyIntervalMs: 0 });
  const burst = await simulate({ scenario: 'eod-burst', endpoint: server.otlpHttpUrl, seed: 3, durationSec: 2, periodMs: 3 * HOUR, endMs: TODAY - 2 * DAY + 20 * HOUR, rate: 0.5 });
  leak = await simulate({ scenario: 'leak', endpoint: server.otlpHttpUrl, seed: 3, durationSec: 2, periodMs: 3 * HOUR, endMs: TODAY - DAY + 20 * HOUR, rate: 0.5 });
  for (const s of [burst, leak]) assert.is(s.exports.traces.failedRequests, 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  await postAudit([
    ...READS.map((r) => ({
      time: iso(r.at),
      actor: { id: r.token, type: 'user' },
      action: 'tenantscope.api.read',
      target: { type: 'api_route', id: r.route, tenant_id: 'acme-dist' },
      outcome: r.outcome,
      attributes: { 'token.kind': r.kind, 'http.method': 'GET', 'http.status_code': r.outcome === 'denied' ? '403' : '200' },
    })),
    // Facts for the recoverability section: a database backup and a restore drill of acme-dist's own.
    { id: 'evt-backup-db', time: iso(TODAY - DAY + 2 * HOUR), actor: { id: 'backup-operator', type: 'service' }, action: 'backup.completed', target: { type: 'backup', id: 'database' }, outcome: 'success', attributes: { component: 'database', scope: 'tenant', snapshot_time: iso(TODAY - DAY + 2 * HOUR), retention_days: '35', location_region: 'us-east-1' } },
    { id: 'evt-restore-db', time: iso(TODAY - DAY + 3 * HOUR), actor: { id: 'backup-operator', type: 'service' }, action: 'restore.tested', target: { type: 'backup', id: 'database' }, outcome: 'success', attributes: { component: 'database', scope: 'tenant', duration_seconds: '900', location_region: 'us-east-1' } },
    // Findings for the policy section: an event from outside acme-dist's regions, an export without approval.
    { id: 'evt-eu-export', time: iso(TODAY - DAY + 11 * HOUR), actor: { id: 'u-1842', type: 'user', tenant_id: 'acme-dist' }, action: 'data.export', target: { type: 'dataset', id: 'orders-q4', tenant_id: 'acme-dist' }, outcome: 'success', region: 'eu-west-1' },
  ]);
  await server.policies!.drain();
});

test.after(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function get(path: string, token?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${server.apiUrl}${path}`, { headers: token ? bearer(token) : {} });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function json<T>(path: string, token: string): Promise<T> {
  const r = await get(path, token);
  assert.is(r.status, 200, `${path}: ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text) as T;
}

test('acme-dist\'s evidence holds every section, with the same figures as its slo, cost, violations and audit-verify routes', async () => {
  const token = 'demo-read-acme-dist';
  const chainBefore = await json<VerifyResult>('/api/v1/tenants/acme-dist/audit/verify', token);
  const doc = await json<SignedEvidence>(EVIDENCE, token);
  const chainAfter = await json<VerifyResult>('/api/v1/tenants/acme-dist/audit/verify', token);
  const r = doc.report;
  assert.equal(Object.keys(r), ['format', 'generated_at', 'tenantscope_version', 'period', 'requested_by', 'tenant', 'controls', 'policy', 'redactions', 'audit_chain', 'checkpoint', 'retention', 'access_review', 'slo', 'noisy_neighbours', 'cost', 'recoverability', 'incidents', 'series', 'integrity']);
  assert.equal(r.period, { from: FROM, to: TO, days: Math.round(((Date.parse(TO) - Date.parse(FROM)) / DAY) * 1000) / 1000 });
  assert.is(r.tenantscope_version, (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version);

  assert.equal(r.slo, await json<SloReport>(`/api/v1/tenants/acme-dist/slo?${WINDOW}`, token));
  assert.ok(r.slo.services.length >= 4 && r.slo.services.every((s) => s.requests > 0));
  assert.equal(r.cost, await json<CostReport>(`/api/v1/tenants/acme-dist/cost?${WINDOW}`, token));
  assert.ok(r.cost.tenants[0]!.usage.requests > 0);
  const violations = await json<{ violations: Violation[] }>(`/api/v1/tenants/acme-dist/violations?status=all&${WINDOW}`, token);
  assert.equal(r.policy.violations, violations.violations);
  assert.ok(['residency', 'export_without_approval', 'cross_tenant_identifier_redacted'].every((rule) => r.policy.violations.some((v) => v.rule === rule)), JSON.stringify(r.policy.by_policy));
  // Reads may be chained as they happen; the evidence's chain lies between the two answers around it.
  assert.is(r.audit_chain.status, 'ok');
  assert.ok(r.audit_chain.events >= chainBefore.events && r.audit_chain.events <= chainAfter.events && r.audit_chain.events >= READS.length + 1);
  // The route answers the checkpoint with the chain; the report keeps it as a section of its own.
  if (chainBefore.events === chainAfter.events) assert.equal({ ...r.audit_chain, checkpoint: r.checkpoint }, chainBefore);

  // Each leaked customer code redacted once; the burst's offender shown as tenant-1 to acme-dist's token.
  assert.is(r.redactions.by_class.tenant_identifier, leak.leaks[0]!.spans);
  assert.ok(r.noisy_neighbours.offenders.length > 0 && r.noisy_neighbours.offenders.every((o) => o.tenant === 'tenant-1'));
  assert.ok(r.series.cost.length === 3 && r.series.error_budget.length === 3 && r.series.violations.length === 3);
  assert.equal(r.series.cost, r.cost.tenants[0]!.by_day);
  // Recoverability is the recovery route's report for the period, judged by the same policies.
  const { tenant: _t, tier: _tier, region: _r, period: _p, generated_at: _g, ...recovery } = await json<RecoveryReport>(`/api/v1/tenants/acme-dist/recovery?${WINDOW}`, token);
  const { sources, ...recoverability } = r.recoverability;
  assert.equal(recoverability, recovery);
  // The simulated days carry the platform's own backups too: the newest of all is the latest.
  assert.ok(Date.parse(recovery.components.find((c) => c.component === 'database')!.latest!.completed) >= TODAY - DAY + 2 * HOUR);
  assert.is(recovery.last_restore_test!.event_id, 'evt-restore-db');
  assert.ok(sources.some((e) => e.event_id === 'evt-restore-db' && e.stored_as === 'tenant_audit_chain'), JSON.stringify(sources));
  const latestDb = recovery.components.find((c) => c.component === 'database')!.latest!;
  assert.ok(sources.some((e) => e.event_id === latestDb.event_id && e.stored_as === (latestDb.scope === 'platform' ? 'platform_audit_chain' : 'tenant_audit_chain')), JSON.stringify(sources));
  // Incidents are the incidents route's answer for the period (two days: one window).
  const incidents = await json<{ tenant: string; from: string; to: string; incidents: TenantIncident[] }>(`/api/v1/tenants/acme-dist/incidents?${WINDOW}`, token);
  assert.equal(r.incidents.windows, [{ from: incidents.from, to: incidents.to }]);
  assert.equal(r.incidents.incidents, incidents.incidents);
  assert.equal(r.controls.filter((c) => c.required).map((c) => [c.control, c.status]), [['ingest_quota', 'pass'], ['cross_tenant_redaction', 'pass'], ['audit_chain', 'pass']]);
  assert.is(doc.signature.key_id, (await json<EvidencePublicKey>('/api/v1/evidence/public-key', token)).key_id);
});

test('the access review lists who read acme-dist in the period, and names another tenant\'s token only to an admin', async () => {
  // A period that ends before today, so reads made by this test run are not in it.
  const path = `/api/v1/tenants/acme-dist/evidence?from=${FROM}&to=${new Date(TODAY).toISOString()}`;
  const mine = (await json<SignedEvidence>(path, 'demo-read-acme-dist')).report.access_review;
  assert.equal(
    mine.rows.map((x) => [x.actor, x.token_kind, x.route, x.outcome, x.count]),
    [
      ['acme-dist read', 'read', '/api/v1/tenants/:id/slo', 'success', 2],
      ['external auditor (Q3 SOC 2 + GxP review)', 'auditor', '/api/v1/tenants/:id/evidence', 'success', 1],
      ['other-token-1', 'read', '/api/v1/tenants/:id/cost', 'denied', 1],
    ],
  );
  assert.equal([mine.rows[0]!.first, mine.rows[0]!.last], [new Date(READS[0]!.at).toISOString(), new Date(READS[1]!.at).toISOString()]);
  assert.equal([mine.reads, mine.denied, mine.actors], [4, 1, 3]);
  const admin = (await json<SignedEvidence>(path, 'demo-admin')).report;
  assert.ok(admin.access_review.rows.some((x) => x.actor === 'hooli-wholesale read'));
  assert.ok(admin.noisy_neighbours.offenders.length === 0 || admin.noisy_neighbours.offenders.some((o) => o.tenant === 'globex-3pl'));
});

test('the HTML evidence is a download with tables, five SVG charts and nothing fetched from elsewhere', async () => {
  const r = await get(`${EVIDENCE}&format=html`, 'demo-auditor');
  assert.is(r.status, 200, r.text.slice(0, 300));
  assert.match(r.headers.get('content-type')!, /^text\/html/);
  const compact = (iso: string) => iso.replace(/[-:]/g, '').replace('.000Z', 'Z');
  assert.is(r.headers.get('content-disposition'), `attachment; filename="evidence-acme-dist-${compact(FROM)}-${compact(TO)}.html"`);
  assert.ok((r.text.match(/<table>/g) ?? []).length >= 10);
  assert.ok((r.text.match(/<svg/g) ?? []).length >= 5);
  assert.ok(r.text.includes('<section id="recoverability">'));
  assert.ok(r.text.includes('<section id="incidents">'));
  assert.not.match(r.text, /(src|href)\s*=\s*["']?\s*https?:/i);
  assert.not.match(r.text, /<link\b|<img\b|<iframe\b|@import|url\(\s*["']?https?:/i);
  const json = await get(EVIDENCE, 'demo-auditor');
  assert.match(json.headers.get('content-disposition')!, /^attachment; filename="evidence-acme-dist-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.json"$/);
});

test('evidence verify accepts untouched JSON and HTML files and rejects a changed one, naming the section', async () => {
  const jsonFile = join(tmp, 'acme.json');
  const htmlFile = join(tmp, 'acme.html');
  const cli = await cliResult(['evidence', '--tenant', 'acme-dist', '--from', FROM, '--to', TO, '--out', htmlFile, '--api', server.apiUrl, '--token', 'demo-auditor']);
  assert.is(cli.code, 0, cli.stderr);
  writeFileSync(jsonFile, (await get(EVIDENCE, 'demo-auditor')).text);
  for (const file of [jsonFile, htmlFile]) {
    const ok = await cliResult(['evidence', 'verify', file, '--api', server.apiUrl]);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^valid: evidence of acme-dist from /);
  }
  const text = readFileSync(jsonFile, 'utf8');
  const at = text.indexOf('"currency": "USD"');
  assert.ok(at > 0);
  const changed = join(tmp, 'acme-changed.json');
  writeFileSync(changed, `${text.slice(0, at)}"currency": "USE"${text.slice(at + '"currency": "USD"'.length)}`);
  const bad = await cliResult(['evidence', 'verify', changed, '--api', server.apiUrl]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /invalid \(signature_mismatch\): report section cost differs from what was signed/);
  const html = readFileSync(htmlFile, 'utf8');
  const changedHtml = join(tmp, 'acme-changed.html');
  writeFileSync(changedHtml, html.replace('<td>ingest_quota</td>', '<td>ingest-quota</td>'));
  const badPage = await cliResult(['evidence', 'verify', changedHtml, '--api', server.apiUrl]);
  assert.is(badPage.code, 1);
  assert.match(badPage.stderr, /page_mismatch/);
});

test('the public-key endpoint needs no token, and its key verifies the report', async () => {
  const r = await get('/api/v1/evidence/public-key');
  assert.is(r.status, 200);
  const pk = JSON.parse(r.text) as EvidencePublicKey;
  assert.is(pk.algorithm, 'Ed25519');
  const pem = await get('/api/v1/evidence/public-key?format=pem');
  assert.is(pem.text, pk.public_key);
  const text = (await get(EVIDENCE, 'demo-read-acme-dist')).text;
  const v = verifyEvidence(text, pk.public_key);
  assert.ok(v.valid && v.key_source === 'supplied' && v.key_id === pk.key_id, JSON.stringify(v));
  // The key file is the one the server keeps in its data dir, owner-only.
  const kept = createPublicKey(createPrivateKey(readFileSync(join(server.dataDir, 'evidence-key.pem'), 'utf8'))).export({ type: 'spki', format: 'pem' });
  assert.is(kept, pk.public_key);
});

test('a demo-read-acme-dist token gets 403 for globex-3pl evidence, with no globex data in the body', async () => {
  for (const format of ['json', 'html']) {
    const r = await get(`/api/v1/tenants/globex-3pl/evidence?${WINDOW}&format=${format}`, 'demo-read-acme-dist');
    assert.is(r.status, 403);
    assert.is(JSON.parse(r.text).error.code, 'TS_ERR_FORBIDDEN');
    assert.not.match(r.text, /globex|GLOBEX|CUST-60981|order-api|kms-/i);
  }
  const ingest = await get(EVIDENCE, 'demo-ingest-acme-dist');
  assert.is(ingest.status, 403);
  assert.is((await get(EVIDENCE)).status, 401);
});

test('hostile query values get 400 with the parameter named', async () => {
  const cases: [string, string][] = [
    ['from=2026-13-45T99:00:00Z', 'from'],
    ['from=%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'from'],
    ['to=1e99', 'to'],
    ['from=1&from=2', 'from'],
    ['format=pdf', 'format'],
    ['format=html&format=json', 'format'],
    ['format=%00', 'format'],
    [`from=${TO}&to=${FROM}`, 'from'],
    [`from=${new Date(Date.parse(TO) - 400 * DAY).toISOString()}&to=${TO}`, 'from'],
  ];
  for (const [q, param] of cases) {
    const r = await get(`/api/v1/tenants/acme-dist/evidence?${q}`, 'demo-admin');
    assert.is(r.status, 400, `${q}: ${r.text.slice(0, 200)}`);
    const body = JSON.parse(r.text) as { error: { code: string; message: string } };
    assert.is(body.error.code, 'TS_ERR_BAD_QUERY', q);
    assert.match(body.error.message, new RegExp(`parameter ${param}\\b`), q);
    assert.match(r.headers.get('content-type')!, /^application\/json/);
  }
  assert.is((await get('/api/v1/evidence/public-key?format=der')).status, 400);
});

test('evidence from the local store is signed with the data dir\'s key, or with --evidence-key', async () => {
  const dataDir = join(tmp, 'local');
  const out = join(tmp, 'local.json');
  const env = { TENANTSCOPE_LOG_LEVEL: 'warn' };
  const r = await cliResult(['evidence', '--tenant', 'umbrella-pharma', '--data-dir', dataDir, '--out', out], env);
  assert.is(r.code, 0, r.stderr);
  const dirKey = join(tmp, 'dir-key.pub');
  writeFileSync(dirKey, createPublicKey(createPrivateKey(readFileSync(join(dataDir, 'evidence-key.pem'), 'utf8'))).export({ type: 'spki', format: 'pem' }));
  const ok = await cliResult(['evidence', 'verify', out, '--public-key', dirKey]);
  assert.is(ok.code, 0, ok.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as SignedEvidence;
  assert.equal(doc.report.requested_by, { name: 'operator (local store)', kind: 'operator', anonymised: false });

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(tmp, 'configured.pem');
  const pubFile = join(tmp, 'configured.pub');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const out2 = join(tmp, 'local2.json');
  const r2 = await cliResult(['evidence', '--tenant', 'umbrella-pharma', '--data-dir', dataDir, '--evidence-key', keyFile, '--out', out2], env);
  assert.is(r2.code, 0, r2.stderr);
  assert.is((await cliResult(['evidence', 'verify', out2, '--public-key', pubFile])).code, 0);
  const wrongKey = await cliResult(['evidence', 'verify', out2, '--public-key', dirKey]);
  assert.is(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /invalid \(key_mismatch\)/);
});

test('--out file.pdf prints the page through Chromium', async () => {
  if (!existsSync('/usr/bin/chromium')) {
    console.log('  (skipped: no /usr/bin/chromium)');
    return;
  }
  const pdf = join(tmp, 'acme.pdf');
  const r = await cliResult(['evidence', '--tenant', 'acme-dist', '--from', FROM, '--to', TO, '--out', pdf, '--api', server.apiUrl, '--token', 'demo-auditor']);
  assert.is(r.code, 0, r.stderr);
  const bytes = readFileSync(pdf);
  assert.is(bytes.subarray(0, 5).toString(), '%PDF-');
  assert.ok(bytes.length > 20_000, `${bytes.length} bytes`);
});

test.run();

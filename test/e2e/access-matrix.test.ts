// Isolation of reads, proven route by route: every API route the server registered, called by
// every token of the demo registry (and by no token, and by a made-up one) for every tenant and
// for a tenant that does not exist. The routes come from the server itself, so a route added
// later is in the matrix without anyone remembering to add it, and a route without an access
// rule cannot even be registered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Fastify from 'fastify';
import type { Principal } from '../../src/config/index.js';
import { enforceAccess, type DeclaredRoute } from '../../src/http/access.js';
import { buildApiApp } from '../../src/http/api.js';
import { READ_ACTION } from '../../src/http/read-audit.js';
import { stageLogger } from '../../src/log.js';
import { simulate } from '../../src/simulate/index.js';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { serverTraffic } from '../support/traffic.js';
import { auditEvent } from '../support/audit.js';
import { cliResult } from '../support/cli.js';
import { jsonTraces } from '../support/otlp.js';
import { until } from '../support/wait.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let server: TestServer;
const UNKNOWN_TENANT = 'no-such-tenant';
const HOUR = 3_600_000;

/** Every demo plaintext token, and what it stands for. */
function demoTokens(s: TestServer): Map<string, Principal> {
  const plain = ['demo-admin', 'demo-auditor', 'demo-ingest-shared-collector'];
  for (const t of s.registry.tenants()) plain.push(`demo-ingest-${t.id}`, `demo-read-${t.id}`);
  return new Map(plain.map((p) => [p, s.registry.authenticate(p)!]));
}

/** Strings that name a tenant: its id, name and identifiers (customer codes, domains). */
function namesOf(tenantId: string): string[] {
  const t = server.registry.tenant(tenantId)!;
  return [t.id, t.name, ...t.identifiers];
}

/**
 * A tenant's backup, failed backup and restore test, each naming the tenant (its key id, its
 * event ids), so a recovery report shown to anyone else would be seen to leak it.
 */
function recoveryFacts(tenantId: string, region: string, endMs: number): Record<string, unknown>[] {
  const at = (ms: number) => new Date(ms).toISOString();
  const fact = (id: string, action: string, timeMs: number, outcome: string, attributes: Record<string, string>) => ({ id: `${tenantId}-${id}`, time: at(timeMs), actor: { id: 'backup-operator', type: 'service' }, action, target: { type: 'backup', id: attributes.component }, outcome, attributes });
  return [
    // At the simulated period's end: newer than the simulator's backups, so it is the one the report shows.
    fact('db-backup', 'backup.completed', endMs, 'success', { component: 'database', scope: 'tenant', snapshot_time: at(endMs), retention_days: '400', location_region: region, encryption_key_id: `kms-${tenantId}-backup` }),
    fact('queue-failed', 'backup.failed', endMs - 90 * 60_000, 'failure', { component: 'queue', scope: 'tenant' }),
    fact('restore', 'restore.tested', endMs - 80 * 60_000, 'success', { component: 'database', scope: 'tenant', duration_seconds: '600', location_region: region }),
  ];
}

const checkoutTraffic = (tenantId: string, fromMs: number, toMs: number, perMinute: number, errors = 0) => serverTraffic(server.store, tenantId, 'checkout-api', fromMs, toMs, perMinute, errors);

/** Tenants that fail at once in the incident written below; the last tenant stays healthy. */
function incidentTenants(): string[] {
  return server.registry.tenants().slice(0, -1).map((t) => t.id);
}

function readable(p: Principal, tenantId: string): boolean {
  return server.registry.tenant(tenantId) !== undefined && (p.tenants === 'all' ? p.kind === 'admin' || p.kind === 'auditor' : server.registry.canRead(p, tenantId));
}

interface Answer {
  status: number;
  body: string;
}

async function call(route: DeclaredRoute, tenantId: string, token: string | undefined): Promise<Answer> {
  const now = Date.now();
  const path = route.url.replace(':id', encodeURIComponent(tenantId)).replace('*', 'index.html');
  const q = new URLSearchParams({ from: new Date(now - 2 * HOUR).toISOString(), to: new Date(now + 60_000).toISOString() });
  const res = await fetch(`${server.apiUrl}${path}?${q}`, { method: route.method, headers: token ? bearer(token) : {} });
  return { status: res.status, body: await res.text() };
}

test.before(async () => {
  server = await startTestServer();
  // Data for every tenant: telemetry with a leak (other tenants' identifiers inside one tenant's
  // data, which redaction must remove), violations, and audit events naming each tenant.
  const endMs = Date.now();
  for (const [i, scenario] of (['eod-burst', 'leak', 'misconfig'] as const).entries()) {
    await simulate({ scenario, endpoint: server.otlpHttpUrl, seed: 40 + i, durationSec: 1, periodMs: HOUR, endMs });
  }
  // And for certain: each tenant's spans carry the next tenant's customer code and domain, so
  // every tenant has a redaction finding about another tenant.
  const all = server.registry.tenants();
  for (const [i, t] of all.entries()) {
    const other = all[(i + 1) % all.length]!;
    const body = jsonTraces({ resource: { 'service.name': 'order-api', 'tenant.id': t.id }, attributes: { 'order.customer_code': other.identifiers.at(-1)!, 'peer.domain': other.identifiers.find((x) => x.includes('.'))! } });
    const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { ...bearer(`demo-ingest-${t.id}`), 'content-type': 'application/json' }, body });
    assert.is(res.status, 200, await res.text());
  }
  await until('a redaction finding naming another tenant for every tenant', async () => {
    const rows = await server.store.query<{ n: string }>("SELECT uniqExact(tenant_id) AS n FROM violations WHERE rule = 'cross_tenant_identifier_redacted'");
    return Number(rows[0]!.n) === all.length;
  });
  for (const t of server.registry.tenants()) {
    const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, {
      method: 'POST',
      headers: { ...bearer(`demo-ingest-${t.id}`), 'content-type': 'application/json' },
      body: JSON.stringify([auditEvent({ actor: { id: 'u-7', type: 'user' }, target: { type: 'order', id: `${t.identifiers.at(-1)}-order-1` } }), ...recoveryFacts(t.id, t.region, endMs)]),
    });
    const answer = await res.text();
    assert.is(res.status, 200, answer);
    assert.is((JSON.parse(answer) as { rejected: number }).rejected, 0, `${t.id}'s recovery facts: ${answer}`);
  }
  // A platform backup covering every tenant: the recovery routes answer it to each of them.
  const platform = await fetch(`${server.otlpHttpUrl}/v1/audit`, {
    method: 'POST',
    headers: { ...bearer('demo-admin'), 'content-type': 'application/json' },
    body: JSON.stringify([{ time: new Date(endMs).toISOString(), actor: { id: 'backup-operator', type: 'service' }, action: 'backup.completed', target: { type: 'backup', id: 'config' }, outcome: 'success', attributes: { component: 'config', scope: 'platform', snapshot_time: new Date(endMs).toISOString(), retention_days: '30', location_region: 'us-east-1', encryption_key_id: 'kms-platform-backups' } }]),
  });
  assert.is(platform.status, 200, await platform.text());
  // One incident hitting every tenant but the last at once (half of their checkout-api requests
  // fail for 15 minutes, within the two hours every call asks for): each affected tenant's view
  // of it would name the others if it leaked them.
  const minute = Math.floor(endMs / 60_000) * 60_000;
  for (const t of server.registry.tenants()) {
    const failing = incidentTenants().includes(t.id);
    await checkoutTraffic(t.id, minute - 110 * 60_000, minute - 70 * 60_000, 50);
    await checkoutTraffic(t.id, minute - 70 * 60_000, minute - 55 * 60_000, 50, failing ? 25 : 0);
    await checkoutTraffic(t.id, minute - 55 * 60_000, minute, 50);
  }
  // A checkpoint holds every tenant's segment heads, keyed by tenant id: with one on disk, the
  // routes that answer a tenant's part of it (audit verify, evidence) are in the matrix too.
  await server.settle();
  await server.checkpoint();
});

test.after(async () => {
  await server?.stop();
});

test('every API route declares an access rule, and an app refuses a route registered without one', async () => {
  assert.ok(server.routes.length >= 12, `${server.routes.length} routes`);
  for (const r of server.routes) assert.ok(['public', 'tenant', 'caller', 'platform'].includes(r.access.scope), `${r.method} ${r.url}`);
  for (const r of server.routes.filter((x) => x.access.scope === 'tenant')) assert.ok(r.url.includes(':id'), `${r.url} is tenant-scoped and names its tenant`);
  const app = Fastify();
  enforceAccess(app, server.registry);
  let refused: Error | undefined;
  try {
    app.get('/api/v1/unguarded', async () => ({ secret: true }));
    await app.ready();
  } catch (e) {
    refused = e as Error;
  }
  assert.ok(refused, 'a route without an access rule was accepted');
  assert.match(refused!.message, /has no access rule/);
  await app.close();
});

test('the recovery routes are in the matrix, and answer each reader its own backups', async () => {
  const urls = server.routes.map((r) => `${r.access.scope} ${r.url}`);
  for (const u of ['tenant /api/v1/tenants/:id/recovery', 'platform /api/v1/recovery', 'tenant /api/v1/tenants/:id/evidence']) assert.ok(urls.includes(u), u);
  // Data to leak is there: without it the matrix could not see a leak.
  const mine = await call(server.routes.find((r) => r.url === '/api/v1/tenants/:id/recovery')!, 'acme-dist', 'demo-read-acme-dist');
  assert.is(mine.status, 200, mine.body);
  for (const s of ['kms-acme-dist-backup', 'acme-dist-queue-failed', 'acme-dist-restore', 'kms-platform-backups']) assert.ok(mine.body.includes(s), s);
  const all = await call(server.routes.find((r) => r.url === '/api/v1/recovery')!, '', 'demo-admin');
  assert.ok(server.registry.tenants().every((t) => all.body.includes(`kms-${t.id}-backup`)), all.body.slice(0, 300));
});

test('the incident routes are in the matrix, with an incident of several tenants to leak', async () => {
  const urls = server.routes.map((r) => `${r.access.scope} ${r.url}`);
  for (const u of ['tenant /api/v1/tenants/:id/incidents', 'platform /api/v1/incidents']) assert.ok(urls.includes(u), u);
  const affected = incidentTenants();
  const all = await call(server.routes.find((r) => r.url === '/api/v1/incidents')!, '', 'demo-admin');
  assert.is(all.status, 200, all.body);
  const incidents = (JSON.parse(all.body) as { incidents: { tenants: { tenant: string }[] }[] }).incidents;
  const hit = incidents.find((i) => affected.every((id) => i.tenants.some((t) => t.tenant === id)));
  assert.ok(hit, all.body.slice(0, 500));
  // Each affected tenant's own view holds the incident with the others counted: names it must not show.
  for (const id of affected) {
    const mine = await call(server.routes.find((r) => r.url === '/api/v1/tenants/:id/incidents')!, id, `demo-read-${id}`);
    assert.is(mine.status, 200, mine.body);
    const own = (JSON.parse(mine.body) as { incidents: { impact: { tenant: string }; other_tenants_affected: number }[] }).incidents;
    assert.ok(own.some((i) => i.impact.tenant === id && i.other_tenants_affected >= affected.length - 1), `${id}: ${mine.body.slice(0, 300)}`);
  }
});

test('no tenant-scoped token obtains another tenant\'s data through any API route, and every entitled call is answered', async () => {
  const tokens = demoTokens(server);
  const tenants = server.registry.tenants().map((t) => t.id);
  const failures: string[] = [];
  let entitled = 0;
  for (const route of server.routes) {
    const targets = route.access.scope === 'tenant' ? [...tenants, UNKNOWN_TENANT] : [''];
    for (const target of targets) {
      for (const [token, p] of [...tokens, ['not-a-token', undefined] as const, [undefined, undefined] as const]) {
        const a = await call(route, target, token);
        const where = `${route.method} ${route.url} [${target || '-'}] as ${token ?? 'no token'} -> ${a.status}`;
        const kindOk = route.access.scope === 'public' || (p !== undefined && route.access.kinds.includes(p.kind));
        const allowed = route.access.scope === 'tenant' ? kindOk && p !== undefined && (readable(p, target) || (p.tenants === 'all' && target === UNKNOWN_TENANT)) : kindOk;
        if (!p && route.access.scope !== 'public') {
          if (a.status !== 401) failures.push(`${where}: expected 401`);
        } else if (!allowed) {
          if (a.status !== 403) failures.push(`${where}: expected 403`);
        } else {
          entitled++;
          // A state-changing route (POST: erase) called without its confirmation is refused
          // with 400 once access is granted: the matrix proves who gets that far, and erases nothing.
          const expected = target === UNKNOWN_TENANT ? 404 : route.method === 'POST' ? 400 : 200;
          if (a.status !== expected) failures.push(`${where}: expected ${expected}: ${a.body.slice(0, 200)}`);
        }
        // Whatever the answer, it names no tenant the caller may not read.
        const foreign = tenants.filter((t) => !(p && (p.tenants === 'all' ? p.kind !== 'ingest' : readable(p, t))));
        for (const t of foreign) {
          const leaked = namesOf(t).find((n) => a.body.includes(n));
          if (leaked) failures.push(`${where}: body names ${t} (${JSON.stringify(leaked)})`);
        }
      }
    }
  }
  assert.ok(entitled > 50, `${entitled} entitled calls`);
  assert.equal(failures.slice(0, 30), [], `${failures.length} failures`);
});

test('a tenant-scoped caller gets the same answer for a tenant it may not read as for one that does not exist', async () => {
  const failures: string[] = [];
  for (const token of ['demo-read-acme-dist', 'demo-auditor', 'demo-ingest-globex-3pl', 'demo-ingest-shared-collector']) {
    for (const route of server.routes.filter((r) => r.access.scope === 'tenant')) {
      const forbidden = await call(route, 'globex-3pl', token);
      const unknown = await call(route, UNKNOWN_TENANT, token);
      if (forbidden.status !== unknown.status || forbidden.body !== unknown.body) failures.push(`${route.url} as ${token}: ${forbidden.status} ${forbidden.body} vs ${unknown.status} ${unknown.body}`);
    }
  }
  assert.equal(failures, []);
});

test('the OTLP port reads nothing back: read and auditor tokens cannot send, admin tokens only audit (platform facts), and no route there answers GET with data', async () => {
  for (const path of ['/v1/traces', '/v1/metrics', '/v1/logs', '/v1/audit']) {
    for (const token of ['demo-read-acme-dist', 'demo-auditor', 'demo-admin']) {
      const res = await fetch(`${server.otlpHttpUrl}${path}`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{}' });
      // An admin sends platform-scope recovery facts (backups covering many tenants) as audit events; it still reads nothing back here.
      if (path === '/v1/audit' && token === 'demo-admin') assert.is(res.status, 400, `${path} as ${token}: an empty batch is refused as malformed`);
      else assert.is(res.status, 403, `${path} as ${token}`);
    }
    const get = await fetch(`${server.otlpHttpUrl}${path}`, { headers: bearer('demo-ingest-acme-dist') });
    assert.ok(get.status === 405 || get.status === 404, `GET ${path} -> ${get.status}`);
    assert.not.ok((await get.text()).includes('acme-dist'));
  }
});

test('every read of a tenant\'s data is written in that tenant\'s audit chain: who, which route, when and outcome', async () => {
  const before = Date.now();
  const ok = await fetch(`${server.apiUrl}/api/v1/tenants/hooli-wholesale/slo`, { headers: bearer('demo-read-hooli-wholesale') });
  assert.is(ok.status, 200);
  const denied = await fetch(`${server.apiUrl}/api/v1/tenants/hooli-wholesale/cost`, { headers: bearer('demo-read-stark-logistics') });
  assert.is(denied.status, 403);
  const anonymous = await fetch(`${server.apiUrl}/api/v1/tenants/hooli-wholesale/cost`);
  assert.is(anonymous.status, 401);
  const platform = await fetch(`${server.apiUrl}/api/v1/cost`, { headers: bearer('demo-admin') });
  assert.is(platform.status, 200);
  const readsOf = async (tenant: string, enough: (rows: Array<{ target_id: string }>) => boolean = (rows) => rows.length >= 3) => {
    // Read events are written after the answer and stored with their table's next insert.
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      const rows = await server.store.query<{ actor_id: string; target_id: string; outcome: string; kind: string; status: string; ms: string }>(
        `SELECT actor_id, target_id, outcome, attributes['token.kind'] AS kind, attributes['http.status_code'] AS status, toUnixTimestamp64Milli(time) AS ms
           FROM audit_events WHERE tenant_id = {t:String} AND action = {a:String} AND time >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY time`,
        { t: tenant, a: READ_ACTION, since: before },
      );
      if (enough(rows)) return rows;
      await new Promise((r) => setTimeout(r, 20)); // the refused attempt is recorded after its answer
    }
    return [];
  };
  const hooli = await readsOf('hooli-wholesale');
  const row = (target: string, outcome: string) => hooli.find((r) => r.target_id === target && r.outcome === outcome);
  assert.ok(row('/api/v1/tenants/:id/slo', 'success'), JSON.stringify(hooli));
  assert.is(row('/api/v1/tenants/:id/slo', 'success')!.actor_id, 'hooli-wholesale read');
  assert.is(row('/api/v1/tenants/:id/slo', 'success')!.kind, 'read');
  assert.ok(Number(row('/api/v1/tenants/:id/slo', 'success')!.ms) >= before - 1000);
  assert.is(row('/api/v1/tenants/:id/cost', 'denied')?.actor_id, 'stark-logistics read');
  assert.is(row('/api/v1/tenants/:id/cost', 'denied')?.status, '403');
  assert.ok(row('/api/v1/cost', 'success'), 'the admin\'s platform-wide read is in every tenant\'s chain');
  assert.is(hooli.filter((r) => r.outcome === 'denied').length, 1, 'the anonymous attempt is not recorded');
  // Recorded in the other tenants' chains too (platform read), and the chain still verifies.
  const isPlatformRead = (rows: Array<{ target_id: string }>) => rows.some((r) => r.target_id === '/api/v1/cost');
  assert.ok(isPlatformRead(await readsOf('globex-3pl', isPlatformRead)));
  const verify = (await (await fetch(`${server.apiUrl}/api/v1/tenants/hooli-wholesale/audit/verify`, { headers: bearer('demo-admin') })).json()) as { status: string };
  assert.is(verify.status, 'ok');
});

/** What a command wrote to `out`: a file's text, or every file of a directory (an export bundle). */
function outputText(out: string): string {
  if (!existsSync(out)) return '';
  if (!statSync(out).isDirectory()) return readFileSync(out, 'utf8');
  return readdirSync(out).map((f) => readFileSync(join(out, f), 'latin1')).join('\n');
}

/** Every leaf command of the CLI with its help text, found by walking `--help`. */
async function cliCommands(path: string[] = []): Promise<{ path: string[]; help: string }[]> {
  const { stdout } = await cliResult([...path, '--help']);
  const section = stdout.split(/^Commands:$/m)[1];
  if (!section) {
    assert.match(stdout, /^Usage: tenantscope/, `help of ${path.join(' ')}`);
    return [{ path, help: stdout }];
  }
  const names = [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  // A command with subcommands can act itself (`evidence --api` beside `evidence verify`).
  const found: { path: string[]; help: string }[] = path.length > 0 && stdout.includes('--token') ? [{ path, help: stdout }] : [];
  for (const n of names) found.push(...(await cliCommands([...path, n])));
  return found;
}

test('no CLI command that reads through the API gives a tenant-scoped token another tenant\'s data', async () => {
  // A command that reads tenant data through the API takes a token; `evidence verify` only fetches the public key.
  const reading = (await cliCommands()).filter((c) => c.help.includes('--api <url>') && c.help.includes('--token'));
  assert.ok(reading.length >= 5, reading.map((c) => c.path.join(' ')).join(', '));
  for (const name of ['report recovery', 'evidence']) assert.ok(reading.some((c) => c.path.join(' ') === name), `${name} is walked`);
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-cli-matrix-'));
  const failures: string[] = [];
  try {
    for (const c of reading) {
      const run = async (token: string) => {
        const out = join(dir, `${c.path.join('-')}-${token}.json`);
        const args = [...c.path, '--api', server.apiUrl, '--token', token];
        if (c.help.includes('--tenant')) args.push('--tenant', 'globex-3pl');
        if (c.help.includes('--from')) args.push('--from', new Date(Date.now() - 2 * HOUR).toISOString());
        if (c.help.includes('--out')) args.push('--out', out);
        const r = await cliResult(args);
        return { ...r, text: r.stdout + r.stderr + outputText(out) };
      };
      const name = c.path.join(' ');
      const admin = await run('demo-admin');
      // erase without --confirm: the admin passes access control and is stopped by the missing confirmation.
      if (c.help.includes('--confirm')) {
        if (!/TS_ERR_CONFIRM/.test(admin.stderr)) failures.push(`${name} as admin is not stopped by the missing confirmation: ${admin.stderr.slice(0, 300)}`);
      } else if (admin.code !== 0) failures.push(`${name} as admin exits ${admin.code}: ${admin.stderr.slice(0, 300)}`);
      const scoped = await run('demo-read-acme-dist');
      if (scoped.code === 0) failures.push(`${name} as acme-dist's reader succeeded for globex-3pl`);
      if (!/TS_ERR_(FORBIDDEN|TOKEN_KIND)/.test(scoped.stderr)) failures.push(`${name}: not refused for access: ${scoped.stderr.slice(0, 300)}`);
      const leaked = namesOf('globex-3pl').find((n) => scoped.text.includes(n));
      if (leaked) failures.push(`${name} as acme-dist's reader printed ${JSON.stringify(leaked)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(failures, []);
});

test('a read that cannot be written to the audit chain is not answered', async () => {
  const app = buildApiApp({
    registry: server.registry,
    store: server.store,
    log: stageLogger('test'),
    recordRead: async () => {
      throw new Error('store down');
    },
  });
  const res = await app.inject({ method: 'GET', url: '/api/v1/tenants/acme-dist/slo', headers: bearer('demo-read-acme-dist') });
  assert.is(res.statusCode, 503);
  assert.is(res.json().error.code, 'TS_ERR_READ_NOT_AUDITED');
  assert.not.ok(res.body.includes('services'), 'no report in the refusal');
  await app.close();
});

test.run();

// The incident routes: admins see every affected tenant; a tenant's read or auditor token sees
// its own impact, with the other tenants counted and never named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, bearer, type TestServer } from './support/server.js';
import { serverTraffic } from './support/traffic.js';
import { cliResult } from './support/cli.js';

let server: TestServer;
const MIN = 60_000;
const T = Math.floor(Date.now() / MIN) * MIN;

const traffic = (tenant: string, service: string, fromMs: number, toMs: number, perMinute: number, errors = 0) => serverTraffic(server.store, tenant, service, fromMs, toMs, perMinute, errors);

test.before(async () => {
  server = await startTestServer({ policyIntervalMs: 0 });
  // umbrella-pharma and globex-3pl both fail half their order-api requests for 15 minutes; acme-dist is fine.
  for (const tenant of ['umbrella-pharma', 'globex-3pl']) {
    await traffic(tenant, 'order-api', T - 120 * MIN, T - 60 * MIN, 50);
    await traffic(tenant, 'order-api', T - 60 * MIN, T - 45 * MIN, 50, 25);
    await traffic(tenant, 'order-api', T - 45 * MIN, T, 50);
  }
  await traffic('acme-dist', 'order-api', T - 120 * MIN, T, 50);
});

test.after(async () => {
  await server.stop();
});

const q = `from=${new Date(T - 120 * MIN).toISOString()}&to=${new Date(T).toISOString()}`;

async function get(path: string, token: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.apiUrl}${path}`, { headers: bearer(token) });
  return { status: res.status, text: await res.text() };
}

test('an admin sees the incident with every affected tenant', async () => {
  const r = await get(`/api/v1/incidents?${q}`, 'demo-admin');
  assert.is(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { incidents: { scope: string; tenants: { tenant: string; failures: number }[] }[] };
  assert.is(body.incidents.length, 1);
  assert.equal(body.incidents[0]!.tenants.map((t) => t.tenant), ['globex-3pl', 'umbrella-pharma']);
  assert.equal(body.incidents[0]!.tenants.map((t) => t.failures), [375, 375]);
});

test("a tenant's token sees its own impact, the other tenant counted and never named", async () => {
  const r = await get(`/api/v1/tenants/umbrella-pharma/incidents?${q}`, 'demo-read-umbrella-pharma');
  assert.is(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { incidents: { impact: { tenant: string; failures: number }; other_tenants_affected: number; episodes: { tenant: string }[] }[] };
  assert.is(body.incidents.length, 1);
  assert.is(body.incidents[0]!.impact.tenant, 'umbrella-pharma');
  assert.is(body.incidents[0]!.impact.failures, 375);
  assert.is(body.incidents[0]!.other_tenants_affected, 1);
  assert.ok(body.incidents[0]!.episodes.every((e) => e.tenant === 'umbrella-pharma'));
  for (const name of server.registry.tenant('globex-3pl')!.identifiers) assert.not.ok(r.text.toLowerCase().includes(name.toLowerCase()), name);
  assert.not.ok(r.text.includes('us-west-2'), "the other tenant's region is not told either");
});

test('a tenant that was not hit has no incidents; another tenant and the platform list are refused', async () => {
  const acme = await get(`/api/v1/tenants/acme-dist/incidents?${q}`, 'demo-read-acme-dist');
  assert.is(acme.status, 200);
  assert.equal((JSON.parse(acme.text) as { incidents: unknown[] }).incidents, []);
  assert.is((await get(`/api/v1/tenants/umbrella-pharma/incidents?${q}`, 'demo-read-acme-dist')).status, 403);
  assert.is((await get(`/api/v1/incidents?${q}`, 'demo-read-umbrella-pharma')).status, 403);
});

test('a period longer than 35 days is a 400 naming the parameter', async () => {
  const r = await get(`/api/v1/incidents?from=${new Date(T - 40 * 86_400_000).toISOString()}&to=${new Date(T).toISOString()}`, 'demo-admin');
  assert.is(r.status, 400);
  assert.match(r.text, /from.*35 days/);
});

const cli = (args: string[], token: string) =>
  cliResult(['report', 'incidents', ...args, '--from', new Date(T - 120 * MIN).toISOString(), '--to', new Date(T).toISOString(), '--api', server.apiUrl, '--token', token]);

test('report incidents prints a line per incident and tenant with its impact and credit exposure, and why the scope', async () => {
  const r = await cli([], 'demo-admin');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^INCIDENT\s+SCOPE\s+TENANT\s+IMPACT \(UTC\)/m);
  assert.match(r.stdout, /^inc-\S+\s+\w+\s+globex-3pl\s.*\s15\s+750\s+375\s/m);
  assert.match(r.stdout, /^inc-\S+\s+\w+\s+umbrella-pharma\s.*\s15\s+750\s+375\s/m);
  assert.match(r.stdout, /^inc-\S+ \w+( \(open\))?: /m);
  const csv = await cli(['--csv'], 'demo-admin');
  assert.is(csv.stdout.split('\n')[0], 'incident,scope,incident_from,incident_to,tenant,impact_from,impact_to,impact_minutes,requests,failures,error_budget_consumed,month,month_availability,credit_percent,credit,exposure,currency');
  assert.is(csv.stdout.trim().split('\n').length, 3);
});

test("report incidents --tenant shows the tenant's own impact and the count of the others, to its own token only", async () => {
  const r = await cli(['--tenant', 'umbrella-pharma'], 'demo-read-umbrella-pharma');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /umbrella-pharma\s.*\s375\s.*\s1$/m);
  assert.not.match(r.stdout, /globex/);
  const other = await cli(['--tenant', 'umbrella-pharma'], 'demo-read-acme-dist');
  assert.is.not(other.code, 0);
});

test.run();

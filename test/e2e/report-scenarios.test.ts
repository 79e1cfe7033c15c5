// Scenario truths: the simulator's seeded scenarios go through a running tenantscope, and the
// reports, read through the API as their users would, must tell the story the scenario
// wrote: the burst tenant is the noisy neighbour and the tenants beside it are its victims; an
// ordinary day has no offender; an incident burns one tenant's budget only.
// Each run is three simulated hours ending at 20:00 UTC on its own past day.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simulate, type SimulationSummary } from '../../src/simulate/index.js';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { cliResult } from '../support/cli.js';
import type { NoisyNeighborReport } from '../../src/reports/noisy.js';
import type { SloReport } from '../../src/reports/slo.js';
import type { CostReport } from '../../src/reports/cost.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIRST_END = Math.floor(Date.now() / DAY) * DAY - 20 * DAY + 20 * HOUR;
const TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl', 'nakatomi-trading'];
const BURST_RESOURCES = ['service:order-api', 'db:pg-shared'];

let server: TestServer;
const runs: Record<string, SimulationSummary> = {};

test.before(async () => {
  server = await startTestServer({ policies: 'off' });
  let day = 0;
  // The incident is sent at 3x: in umbrella-pharma's evening (19:30 local) half the rate gives
  // its order-api some 30 requests an hour, and the minimum-traffic guard (100 events in the
  // long window) rightly keeps that from paging; at 3x the hour holds about 200.
  const rates = { steady: 0.5, 'eod-burst': 0.5, incident: 3 };
  for (const scenario of ['steady', 'eod-burst', 'incident'] as const) {
    runs[scenario] = await simulate({ scenario, endpoint: server.otlpHttpUrl, seed: 7, durationSec: 2, periodMs: 3 * HOUR, endMs: FIRST_END + day++ * DAY, rate: rates[scenario] });
    assert.is(runs[scenario]!.exports.traces.failedRequests, 0, `${scenario}: every trace export accepted`);
  }
});
test.after(async () => {
  await server.stop();
});

async function get<T>(path: string, token: string): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`${server.apiUrl}${path}`, { headers: bearer(token) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T, text };
}

const window = (s: SimulationSummary) => `from=${s.startMs}&to=${s.endMs}`;

test('after eod-burst globex-3pl is the top offender on order-api and the postgres pool, inside its burst', async () => {
  const s = runs['eod-burst']!;
  const { status, body } = await get<NoisyNeighborReport>(`/api/v1/noisy-neighbors?${window(s)}`, 'demo-admin');
  assert.is(status, 200);
  assert.is(body.offenders[0]!.tenant, 'globex-3pl');
  const burst = s.windows.find((w) => w.kind === 'burst')!;
  for (const resource of BURST_RESOURCES) {
    const top = body.offenders.find((o) => o.resource === resource);
    assert.ok(top, `an offender on ${resource}`);
    assert.is(top.tenant, 'globex-3pl', resource);
    assert.ok(top.score > 4 * body.thresholds.min_score, `${resource}: far above the threshold (${top.score})`);
    assert.ok(top.request_share! > top.baseline_request_share, `${resource}: above its usual share`);
    assert.ok(top.load_factor! > 3, `${resource}: several times its usual load (${top.load_factor})`);
    assert.ok(top.trace_ids.length > 0);
    // Every offence window lies inside the simulated burst (a minute of slack at each end).
    for (const w of top.windows) {
      assert.ok(Date.parse(w.from) >= burst.fromMs - 60_000 && Date.parse(w.to) <= burst.toMs + 60_000, `${resource} window ${w.from}-${w.to} inside the burst`);
    }
  }
  // Scores are ranked.
  const scores = body.offenders.map((o) => o.score);
  assert.equal(scores, [...scores].sort((a, b) => b - a));
});

test('after eod-burst every other tenant on order-api and the pool is globex-3pl\'s victim, and slower', async () => {
  const s = runs['eod-burst']!;
  const { body } = await get<NoisyNeighborReport>(`/api/v1/noisy-neighbors?${window(s)}`, 'demo-admin');
  for (const resource of BURST_RESOURCES) {
    const victims = body.victims.filter((v) => v.resource === resource);
    assert.equal(victims.map((v) => v.tenant).sort(), TENANTS.filter((t) => t !== 'globex-3pl').sort(), resource);
    for (const v of victims) {
      assert.equal(v.offenders, ['globex-3pl']);
      assert.ok(v.latency_increase > 1, `${v.tenant} on ${resource}: more than twice as slow (${v.latency_increase})`);
      assert.ok(v.trace_ids.length > 0);
    }
  }
});

test('a victim\'s token sees who hurt it as tenant-1, with its own slowed traces and no other tenant\'s data', async () => {
  const s = runs['eod-burst']!;
  const { status, body, text } = await get<NoisyNeighborReport>(`/api/v1/tenants/acme-dist/noisy-neighbors?${window(s)}`, 'demo-read-acme-dist');
  assert.is(status, 200);
  assert.is(body.tenant, 'acme-dist');
  assert.ok(body.offenders.length >= 2);
  for (const o of body.offenders) {
    assert.is(o.tenant, 'tenant-1');
    assert.equal(o.trace_ids, []);
  }
  assert.ok(body.victims.length >= 2 && body.victims.every((v) => v.tenant === 'acme-dist' && v.offenders.join() === 'tenant-1'));
  for (const other of TENANTS.filter((t) => t !== 'acme-dist')) assert.not.ok(text.includes(other), `no mention of ${other}`);
  // The admin's view of the same tenant names the offender.
  const admin = await get<NoisyNeighborReport>(`/api/v1/tenants/acme-dist/noisy-neighbors?${window(s)}`, 'demo-admin');
  assert.is(admin.body.offenders[0]!.tenant, 'globex-3pl');
});

test('the platform view is for admins; a tenant token asking for another tenant\'s view gets 403', async () => {
  const s = runs['eod-burst']!;
  for (const token of ['demo-read-acme-dist', 'demo-auditor', 'demo-ingest-globex-3pl']) {
    const r = await get<unknown>(`/api/v1/noisy-neighbors?${window(s)}`, token);
    assert.is(r.status, 403, token);
    assert.not.match(r.text, /globex|order-api/);
  }
  const r = await get<unknown>(`/api/v1/tenants/globex-3pl/noisy-neighbors?${window(s)}`, 'demo-read-acme-dist');
  assert.is(r.status, 403);
  assert.not.match(r.text, /order-api|score/);
  const bad = await get<{ error: { message: string } }>(`/api/v1/noisy-neighbors?${window(s)}&min_score=lots`, 'demo-admin');
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /min_score/);
});

test('after steady no offender passes the threshold, and nobody is a victim', async () => {
  const s = runs['steady']!;
  const { body } = await get<NoisyNeighborReport>(`/api/v1/noisy-neighbors?${window(s)}`, 'demo-admin');
  assert.equal(body.offenders, [], JSON.stringify(body.offenders.slice(0, 2)));
  assert.equal(body.victims, []);
});

test('after incident only umbrella-pharma burns error budget, and it pages', async () => {
  const s = runs['incident']!;
  const failure = s.windows.find((w) => w.kind === 'failure')!;
  // Read at the end of the incident, when the short burn windows still hold it.
  for (const tenant of TENANTS) {
    const { body } = await get<SloReport>(`/api/v1/tenants/${tenant}/slo?from=${s.startMs}&to=${failure.toMs}`, 'demo-admin');
    const burned = body.services.filter((x) => x.availability.error_budget_remaining! < 1);
    if (tenant === 'umbrella-pharma') {
      assert.ok(burned.length > 0, 'umbrella-pharma spent budget');
      assert.ok(burned.some((x) => x.availability.error_budget_remaining! < 0), 'and overspent it on some service');
      assert.is(body.status, 'page');
    } else {
      assert.equal(burned.map((x) => [x.service, x.availability.error_budget_remaining]), [], `${tenant} burns no availability budget`);
      assert.is(body.status, 'ok', tenant);
    }
  }
});

test('report noisy --api prints the ranked table as the caller may see it', async () => {
  const s = runs['eod-burst']!;
  const admin = await cliResult(['report', 'noisy', '--api', server.apiUrl, '--token', 'demo-admin', '--from', String(s.startMs), '--to', String(s.endMs)]);
  assert.is(admin.code, 0, admin.stderr);
  const lines = admin.stdout.split('\n');
  const firstRow = lines[lines.findIndex((l) => l.startsWith('OFFENDER')) + 1];
  assert.match(firstRow ?? '', /^globex-3pl\s+(service:order-api|db:pg-shared)\s/);
  assert.match(admin.stdout, /VICTIM/);
  const acme = await cliResult(['report', 'noisy', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-read-acme-dist', '--from', String(s.startMs), '--to', String(s.endMs), '--json']);
  assert.is(acme.code, 0, acme.stderr);
  const r = JSON.parse(acme.stdout) as NoisyNeighborReport;
  assert.is(r.offenders[0]!.tenant, 'tenant-1');
  assert.not.match(acme.stdout, /globex/);
});

test('after eod-burst globex-3pl pays the most compute and requests, and the tenants add up to the platform total', async () => {
  const s = runs['eod-burst']!;
  const { status, body } = await get<CostReport>(`/api/v1/cost?${window(s)}`, 'demo-admin');
  assert.is(status, 200);
  // (A few simulated hours cost cents, so compare the usage behind them.)
  const top = (key: 'cpu_seconds' | 'requests') => [...body.tenants].sort((a, b) => b.usage[key] - a.usage[key])[0]!.tenant;
  assert.is(top('cpu_seconds'), 'globex-3pl');
  assert.is(top('requests'), 'globex-3pl');
  // Spans count on the simulated day; bytes on the day they arrived (today), outside this window.
  assert.ok(body.tenants.every((t) => t.usage.requests > 0 && t.by_component.platform > 0), 'every tenant used the platform and shares its cost');
  const cents = (x: number) => Math.round(x * 100);
  assert.is(body.tenants.reduce((a, t) => a + cents(t.total), 0), cents(body.total));
  // Three hours of a $40 day: $5 of platform cost, all of it shared out.
  assert.is(body.by_component.platform, 5);
  const csv = await fetch(`${server.apiUrl}/api/v1/cost?${window(s)}&format=csv`, { headers: bearer('demo-admin') });
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  const rows = (await csv.text()).trim().split('\n').slice(1);
  assert.is(rows.length, TENANTS.length); // one day each
  assert.is(rows.reduce((a, l) => a + cents(Number(l.split(',').at(-1))), 0), cents(body.total));
});

test('cost: a tenant reads its own costs only; the platform view is for admins', async () => {
  const s = runs['eod-burst']!;
  const own = await get<CostReport>(`/api/v1/tenants/hooli-wholesale/cost?${window(s)}`, 'demo-read-hooli-wholesale');
  assert.is(own.status, 200);
  assert.equal(own.body.tenants.map((t) => t.tenant), ['hooli-wholesale']);
  for (const other of TENANTS.filter((t) => t !== 'hooli-wholesale')) assert.not.ok(own.text.includes(other), other);
  for (const [path, token] of [['/api/v1/cost', 'demo-read-hooli-wholesale'], ['/api/v1/cost', 'demo-auditor'], ['/api/v1/tenants/globex-3pl/cost', 'demo-read-hooli-wholesale']] as const) {
    const r = await get<unknown>(`${path}?${window(s)}`, token);
    assert.is(r.status, 403, `${path} ${token}`);
    assert.not.match(r.text, /total|compute/);
  }
  const bad = await get<{ error: { message: string } }>(`/api/v1/cost?${window(s)}&format=xml`, 'demo-admin');
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /format/);
});

test('report cost --api prints the table with a total line, and --csv the rows', async () => {
  const s = runs['eod-burst']!;
  const args = ['report', 'cost', '--api', server.apiUrl, '--token', 'demo-admin', '--from', String(s.startMs), '--to', String(s.endMs)];
  const table = await cliResult(args);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /^TENANT\s+TIER\s+COMPUTE/m);
  assert.match(table.stdout, /^total\s+.*\d+\.\d\d$/m);
  const csv = await cliResult([...args, '--csv']);
  assert.is(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, /^tenant,tier,day,compute,requests,ingest,storage,platform,total\n/);
});

test.run();

// The workload simulator against a real tenantscope: every scenario's spans arrive through the
// official OTLP exporters under the right tenant, a seed reproduces a run to the bit, and the
// truths the reports will be judged on hold in the stored spans (the burst tenant dominates
// the shared resources and slows its neighbours; an incident fails one tenant only).
// Runs are three simulated hours paced over two seconds, each ending at 20:00 UTC on its own
// past day, so they never overlap in the store and all fall in the tenants' working day.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRegistry } from '../src/config/index.js';
import { simulate, SimulationError, type SimulateOptions, type SimulationSummary } from '../src/simulate/index.js';
import { bearer, DEMO_CONFIG, startTestServer, type TestServer } from './support/server.js';
import type { Violation } from '../src/policy/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIRST_END = Math.floor(Date.now() / DAY) * DAY - 10 * DAY + 20 * HOUR;
const TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl', 'nakatomi-trading'];
const SERVER_KIND = 2;
const CLIENT_KIND = 3;
const PRODUCER_KIND = 4;

let server: TestServer;
const runs = new Map<string, SimulationSummary>();

test.before(async () => {
  server = await startTestServer({ policyIntervalMs: 0 });
});
test.after(async () => {
  await server.stop();
});

/** Run a scenario on day `day` after the first (once per key; later tests reuse the summary). */
async function run(key: string, day: number, opts: Partial<SimulateOptions> = {}): Promise<SimulationSummary> {
  const cached = runs.get(key);
  if (cached) return cached;
  const summary = await simulate({
    scenario: 'steady',
    endpoint: server.otlpHttpUrl,
    seed: 7,
    durationSec: 2,
    periodMs: 3 * HOUR,
    endMs: FIRST_END + day * DAY,
    rate: 0.5,
    ...opts,
  });
  assert.is(summary.exports.traces.failedRequests, 0, `${key}: no trace export failed: ${summary.exports.traces.errors.join('; ')}`);
  assert.is(summary.exports.metrics.failedRequests + summary.exports.logs.failedRequests, 0, `${key}: no metric or log export failed`);
  runs.set(key, summary);
  return summary;
}

// Reads what acknowledged requests left, as the API does: deferred rows stored first.
async function rows<T>(sql: string, params: Record<string, string | number> = {}): Promise<T[]> {
  await server.settle();
  return server.store.query<T>(sql, params);
}

// Spans of one run: server starts fall in [startMs, endMs); children may end a little after.
const IN_RUN = 'toUnixTimestamp64Milli(start_time) >= {from:Int64} AND toUnixTimestamp64Milli(start_time) < {to:Int64} + 60000';
const runParams = (s: SimulationSummary) => ({ from: s.startMs, to: s.endMs });

/** Per tenant: stored spans and a digest of everything about them but the run's start. */
async function digests(s: SimulationSummary): Promise<Map<string, { n: string; digest: string }>> {
  const found = await rows<{ tenant_id: string; n: string; digest: string }>(
    `SELECT tenant_id, count() AS n,
            toString(groupBitXor(cityHash64(trace_id, span_id, parent_span_id, name, kind, status_code, status_message, duration_ns,
                                            toUnixTimestamp64Nano(start_time) - {from:Int64} * 1000000, toString(attributes), toString(resource_attributes)))) AS digest
       FROM spans WHERE ${IN_RUN} GROUP BY tenant_id`,
    runParams(s),
  );
  return new Map(found.map((r) => [r.tenant_id, { n: r.n, digest: r.digest }]));
}

test('a steady run stores every tenant\'s spans under its own token, with tenant.id, instance, home region and the shared resource', async () => {
  const s = await run('steady', 0);
  const registry = loadRegistry(DEMO_CONFIG);
  const perTenant = await rows<{ tenant_id: string; n: string; bad_tenant: string; regions: string[]; instances: string[]; services: string[] }>(
    `SELECT tenant_id, count() AS n,
            countIf(resource_attributes['tenant.id'] != tenant_id) AS bad_tenant,
            groupUniqArray(resource_attributes['cloud.region']) AS regions,
            groupUniqArray(resource_attributes['service.instance.id']) AS instances,
            groupUniqArray(service_name) AS services
       FROM spans WHERE ${IN_RUN} GROUP BY tenant_id ORDER BY tenant_id`,
    runParams(s),
  );
  assert.equal(perTenant.map((r) => r.tenant_id), [...TENANTS].sort(), 'all seven tenants');
  for (const r of perTenant) {
    const sent = s.tenants.find((t) => t.tenant === r.tenant_id)!;
    assert.is(Number(r.n), sent.spans, `${r.tenant_id}: every span sent is stored`);
    assert.is(sent.traces.items, sent.spans, `${r.tenant_id}: every span was exported`);
    assert.is(r.bad_tenant, '0', `${r.tenant_id}: every resource names its tenant`);
    assert.equal(r.regions, [registry.tenant(r.tenant_id)!.region], `${r.tenant_id}: its home region`);
    assert.ok(r.instances.includes('order-api-1') && r.instances.includes('order-api-2'), `${r.tenant_id}: instances ${r.instances}`);
    assert.ok(r.services.includes('order-api') && r.services.includes('inventory-svc'), `${r.tenant_id}: services ${r.services}`);
  }

  const kinds = await rows<{ kind: number; n: string; named: string; with_parent: string }>(
    `SELECT kind, count() AS n,
            countIf(kind = ${SERVER_KIND} AND attributes['http.route'] != '' AND attributes['http.response.status_code'] != ''
                 OR kind = ${CLIENT_KIND} AND attributes['db.system'] = 'postgresql' AND attributes['db.client.connection.pool.name'] = 'pg-shared'
                 OR kind = ${PRODUCER_KIND} AND attributes['messaging.destination.name'] = 'orders' AND attributes['messaging.system'] != '') AS named,
            countIf(parent_span_id != '') AS with_parent
       FROM spans WHERE ${IN_RUN} GROUP BY kind ORDER BY kind`,
    runParams(s),
  );
  assert.equal(kinds.map((k) => k.kind), [SERVER_KIND, CLIENT_KIND, PRODUCER_KIND], 'server, client (postgres) and producer (orders) spans');
  for (const k of kinds) {
    assert.is(k.named, k.n, `kind ${k.kind}: every span names its resource`);
    assert.is(k.with_parent, k.kind === SERVER_KIND ? '0' : k.n, `kind ${k.kind}: requests are roots, calls their children`);
  }
  const server_ = kinds.find((k) => k.kind === SERVER_KIND)!;
  assert.is(Number(server_.n), s.requests, 'one server span per request');
  const pool = s.resources.find((r) => r.resource === 'postgres')!;
  assert.is(Number(kinds.find((k) => k.kind === CLIENT_KIND)!.n), pool.requests, 'one client span per query');

  const errors = s.tenants.reduce((a, t) => a + t.errors, 0);
  assert.ok(errors / s.requests < 0.005, `steady error rate ${errors}/${s.requests}`);
  // Request logs only: the backup agents' recovery events are log records too (event_name set).
  const logs = await rows<{ n: string; traced: string }>(
    `SELECT count() AS n, countIf(trace_id IN (SELECT trace_id FROM spans WHERE status_code = 2 AND kind = ${SERVER_KIND})) AS traced
       FROM logs WHERE toUnixTimestamp64Milli(time) >= {from:Int64} AND toUnixTimestamp64Milli(time) < {to:Int64} + 60000
        AND event_name = ''`,
    runParams(s),
  );
  assert.is(Number(logs[0]!.n), errors, 'one error log per failed request');
  assert.is(logs[0]!.traced, logs[0]!.n, 'each error log carries its failed trace');
  const metrics = await rows<{ tenant_id: string; requests: number }>(
    `SELECT tenant_id, sum(count) AS requests FROM metric_points
      WHERE metric_name = 'http.server.request.duration' AND toUnixTimestamp64Milli(time) >= toUnixTimestamp64Milli(now64()) - 600000
      GROUP BY tenant_id`,
  );
  for (const t of TENANTS) assert.ok(metrics.some((m) => m.tenant_id === t && m.requests > 0), `${t}: request duration histograms`);
});

test('the same seed sends the same spans again, ids included; another seed sends others', async () => {
  const first = await run('steady', 0);
  const again = await run('steady-again', 1);
  const other = await run('steady-seed-8', 2, { seed: 8 });
  const strip = (s: SimulationSummary) => s.tenants.map((t) => [t.tenant, t.requests, t.spans, t.errors, t.logs]);
  assert.equal(strip(again), strip(first), 'same counts per tenant');
  assert.equal(again.resources.map((r) => [r.resource, r.requests, r.errors]), first.resources.map((r) => [r.resource, r.requests, r.errors]));
  const [a, b, c] = await Promise.all([digests(first), digests(again), digests(other)]);
  assert.equal(b, a, 'same spans, span for span');
  for (const t of TENANTS) assert.is.not(c.get(t)!.digest, a.get(t)!.digest, `${t}: seed 8 differs`);
  assert.not.equal(strip(other), strip(first));
});

test('in eod-burst globex-3pl floods order-api and the pool in its window, and the other tenants there get slower', async () => {
  const s = await run('eod-burst', 3, { scenario: 'eod-burst' });
  const burst = s.windows.find((w) => w.kind === 'burst')!;
  assert.is(burst.tenant, 'globex-3pl');
  assert.equal(burst.resources, ['order-api', 'postgres']);
  assert.ok(burst.toMs - burst.fromMs >= 10 * 60_000, 'a window of minutes');
  const params = { ...runParams(s), bf: burst.fromMs, bt: burst.toMs };
  const resource = `if(kind = ${SERVER_KIND}, service_name, attributes['db.client.connection.pool.name'])`;
  const onShared = `(kind = ${SERVER_KIND} AND service_name = 'order-api' OR kind = ${CLIENT_KIND} AND attributes['db.system'] = 'postgresql')`;
  const inside = 'toUnixTimestamp64Milli(start_time) >= {bf:Int64} AND toUnixTimestamp64Milli(start_time) < {bt:Int64}';

  const shares = await rows<{ resource: string; inside: number; share: number }>(
    `SELECT ${resource} AS resource, ${inside} AS inside, countIf(tenant_id = 'globex-3pl') / count() AS share
       FROM spans WHERE ${IN_RUN} AND ${onShared} GROUP BY resource, inside ORDER BY resource, inside`,
    params,
  );
  for (const r of ['order-api', 'pg-shared']) {
    const out = shares.find((x) => x.resource === r && !x.inside)!.share;
    const within = shares.find((x) => x.resource === r && x.inside)!.share;
    assert.ok(within > 0.6 && within > 1.8 * out, `${r}: globex-3pl's share ${within.toFixed(2)} in the burst vs ${out.toFixed(2)} outside`);
  }

  const latency = await rows<{ tenant_id: string; resource: string; inside: number; n: string; p90: number }>(
    `SELECT tenant_id, ${resource} AS resource, ${inside} AS inside, count() AS n, quantileExact(0.9)(duration_ns) AS p90
       FROM spans WHERE ${IN_RUN} AND ${onShared} AND tenant_id != 'globex-3pl' GROUP BY tenant_id, resource, inside`,
    params,
  );
  for (const r of ['order-api', 'pg-shared']) {
    let victims = 0;
    for (const t of TENANTS.filter((x) => x !== 'globex-3pl')) {
      const within = latency.find((x) => x.tenant_id === t && x.resource === r && x.inside);
      const out = latency.find((x) => x.tenant_id === t && x.resource === r && !x.inside);
      if (!within || !out || Number(within.n) < 15) continue;
      victims++;
      assert.ok(within.p90 > 2 * out.p90, `${t} on ${r}: p90 ${within.p90 / 1e6} ms in the burst vs ${out.p90 / 1e6} ms outside`);
    }
    assert.ok(victims >= 3, `${r}: enough neighbours to judge (${victims})`);
  }
});

test('in incident only umbrella-pharma fails, only in its window, and every other tenant sends exactly its steady spans', async () => {
  const steady = await run('steady', 0);
  const s = await run('incident', 4, { scenario: 'incident' });
  const failure = s.windows.find((w) => w.kind === 'failure')!;
  assert.is(failure.tenant, 'umbrella-pharma');
  const rates = await rows<{ tenant_id: string; inside: number; n: string; rate: number }>(
    `SELECT tenant_id, toUnixTimestamp64Milli(start_time) >= {ff:Int64} AND toUnixTimestamp64Milli(start_time) < {ft:Int64} AS inside,
            count() AS n, countIf(status_code = 2) / count() AS rate
       FROM spans WHERE ${IN_RUN} AND kind = ${SERVER_KIND} GROUP BY tenant_id, inside`,
    { ...runParams(s), ff: failure.fromMs, ft: failure.toMs },
  );
  for (const r of rates) {
    if (r.tenant_id === 'umbrella-pharma' && r.inside) assert.ok(r.rate > 0.15, `umbrella-pharma fails in its incident: ${r.rate}`);
    else assert.ok(r.rate < 0.02, `${r.tenant_id} ${r.inside ? 'inside' : 'outside'} the incident: error rate ${r.rate} of ${r.n}`);
  }
  const [a, b] = await Promise.all([digests(steady), digests(s)]);
  for (const t of TENANTS.filter((x) => x !== 'umbrella-pharma')) assert.equal(b.get(t), a.get(t), `${t}: the steady day's spans`);
  assert.is.not(b.get('umbrella-pharma')!.digest, a.get('umbrella-pharma')!.digest);
  const umbrella = s.tenants.find((t) => t.tenant === 'umbrella-pharma')!;
  assert.is(umbrella.logs, umbrella.errors, 'an error log per failed request');
  assert.ok(failure.errors > 0.15 * failure.requests, `summary: ${failure.errors} of ${failure.requests} failed`);
});

async function violations(): Promise<Violation[]> {
  await server.policies!.drain();
  const res = await fetch(`${server.apiUrl}/api/v1/violations?status=open`, { headers: bearer('demo-admin') });
  return ((await res.json()) as { violations: Violation[] }).violations;
}

test('in leak acme-dist spans carry globex-3pl\'s customer code, which is redacted and reported', async () => {
  const s = await run('leak', 5, { scenario: 'leak' });
  const leak = s.leaks[0]!;
  assert.equal([leak.tenant, leak.owner, leak.identifier], ['acme-dist', 'globex-3pl', 'CUST-60981']);
  assert.ok(leak.spans > 0, 'some spans leak');
  const redacted = await rows<{ tenant_id: string; n: string }>(
    "SELECT tenant_id, sum(count) AS n FROM redactions WHERE class = 'tenant_identifier' GROUP BY tenant_id",
  );
  assert.equal(redacted, [{ tenant_id: 'acme-dist', n: String(leak.spans) }], 'each leaked value redacted, nothing else');
  const stored = await rows<{ n: string }>(
    `SELECT count() AS n FROM spans WHERE ${IN_RUN} AND tenant_id = 'acme-dist' AND startsWith(attributes['order.customer_code'], '[REDACTED:tenant_identifier:')`,
    runParams(s),
  );
  assert.is(Number(stored[0]!.n), leak.spans);
  const found = (await violations()).filter((v) => v.rule === 'cross_tenant_identifier_redacted');
  assert.ok(found.some((v) => v.tenant === 'acme-dist' && v.subject === 'globex-3pl'), JSON.stringify(found));
});

test('in misconfig a hooli-wholesale instance sends without tenant.id and initech-retail spans claiming acme-dist are refused', async () => {
  const s = await run('misconfig', 6, { scenario: 'misconfig' });
  const missing = s.missingTenant[0]!;
  const mismatch = s.mismatch[0]!;
  assert.ok(missing.spans > 0 && mismatch.spans > 0, JSON.stringify(s.missingTenant.concat(s.mismatch as never)));
  const noTenant = await rows<{ tenant_id: string; instance: string; n: string }>(
    `SELECT tenant_id, resource_attributes['service.instance.id'] AS instance, count() AS n
       FROM spans WHERE ${IN_RUN} AND NOT mapContains(resource_attributes, 'tenant.id') GROUP BY tenant_id, instance`,
    runParams(s),
  );
  assert.equal(noTenant, [{ tenant_id: 'hooli-wholesale', instance: 'order-api-canary-1', n: String(missing.spans) }]);
  const claimed = await rows<{ n: string }>(`SELECT count() AS n FROM spans WHERE ${IN_RUN} AND resource_attributes['tenant.id'] != tenant_id AND mapContains(resource_attributes, 'tenant.id')`, runParams(s));
  assert.is(claimed[0]!.n, '0', 'no span stored under a tenant it does not claim');
  const refused = await rows<{ tenant_id: string; claimed_tenant: string; n: string }>(
    "SELECT tenant_id, claimed_tenant, sum(records) AS n FROM ingest_usage WHERE outcome = 'rejected' AND reason = 'tenant_mismatch' AND signal = 'spans' GROUP BY tenant_id, claimed_tenant",
  );
  assert.equal(refused, [{ tenant_id: 'initech-retail', claimed_tenant: 'acme-dist', n: String(mismatch.spans) }]);
  const found = await violations();
  assert.ok(found.some((v) => v.tenant === 'hooli-wholesale' && v.rule === 'missing_tenant_context' && v.subject === 'order-api'), 'missing_tenant_context for hooli-wholesale');
  assert.ok(found.some((v) => v.tenant === 'initech-retail' && v.rule === 'foreign_tenant_write'), 'foreign_tenant_write for initech-retail');
});

test('a simulation whose every export is refused fails at once and names the reason', async () => {
  const tokens = Object.fromEntries(TENANTS.map((t) => [t, 'not-a-token']));
  try {
    await simulate({ scenario: 'steady', endpoint: server.otlpHttpUrl, durationSec: 0, periodMs: 10 * 60_000, endMs: FIRST_END - DAY, tokens });
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, SimulationError);
    assert.match((e as Error).message, /nothing could be sent/);
  }
});

test.run();

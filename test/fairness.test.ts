// Per-tenant quotas and fair admission, on their own: token buckets refuse a tenant over its
// rate with the wait it must observe, big requests pass once and then pay their debt, and a
// free slot goes to the tenants in turn so a flood waits behind itself only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRegistry } from '../src/config/index.js';
import { TenantQuotas } from '../src/ingest/quota.js';
import { FairScheduler } from '../src/ingest/fair.js';
import { MemoryGuard } from '../src/ingest/memory.js';
import { DEMO_CONFIG } from './support/server.js';

const registry = loadRegistry(DEMO_CONFIG);
// initech-retail: shared tier with its own 2000 records/s; 10 MiB/s from the tier.

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('a tenant may send its burst at once, then waits in proportion to what it sent beyond it', () => {
  const c = clock();
  const q = new TenantQuotas(registry, { burstSeconds: 2, now: c.now });
  assert.is(q.retryAfterSeconds('initech-retail'), 0);
  q.charge('initech-retail', 4000, 1000); // two seconds of 2000/s: the bucket is now empty
  assert.is(q.retryAfterSeconds('initech-retail'), 1, 'empty: wait for the next records');
  c.advance(500); // 1000 records back
  assert.is(q.retryAfterSeconds('initech-retail'), 0);
  q.charge('initech-retail', 9000, 1000); // one big request passes and leaves a debt of 8000
  assert.is(q.retryAfterSeconds('initech-retail'), 5, '8000 records at 2000/s: four seconds and a bit');
  c.advance(4001);
  assert.is(q.retryAfterSeconds('initech-retail'), 0);
});

test('the byte quota refuses on its own, and one tenant\'s debt is not another\'s', () => {
  const c = clock();
  const q = new TenantQuotas(registry, { burstSeconds: 1, now: c.now });
  q.charge('initech-retail', 1, 30 * 1024 * 1024); // 30 MiB against 10 MiB/s, one second of burst
  assert.is(q.retryAfterSeconds('initech-retail'), 3, 'a debt of 20 MiB: two seconds and a byte, in whole seconds');
  assert.is(q.retryAfterSeconds('acme-dist'), 0);
  assert.is(q.retryAfterSeconds('no-such-tenant'), 0, 'unknown tenants are refused elsewhere, not here');
});

test('refusals are counted per tenant', () => {
  const q = new TenantQuotas(registry);
  q.noteRefused('initech-retail', 10, 100);
  q.noteRefused('initech-retail', 5, 50);
  assert.equal(q.refusals().get('initech-retail'), { requests: 2, records: 15, bytes: 150 });
  assert.is(q.refusals().get('acme-dist'), undefined);
});

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { fn: async () => { log.push(name); await done; }, open };
}

test('a free slot goes to the tenants in turn: one request from a quiet tenant runs before a flood\'s backlog', async () => {
  const s = new FairScheduler({ concurrency: 1, maxQueuedPerTenant: 100 });
  const log: string[] = [];
  const gates = [gate(log, 'flood-0')];
  const runs = [s.run('flood', gates[0]!.fn)];
  for (let i = 1; i <= 5; i++) {
    const g = gate(log, `flood-${i}`);
    gates.push(g);
    runs.push(s.run('flood', g.fn));
  }
  const quiet = gate(log, 'quiet-0');
  runs.push(s.run('quiet', quiet.fn));
  assert.equal(s.depth(), { flood: 5, quiet: 1 });
  for (const g of [...gates.slice(0, 2), quiet, ...gates.slice(2)]) {
    g.open();
    await new Promise((r) => setTimeout(r, 0));
  }
  await Promise.all(runs);
  assert.equal(log, ['flood-0', 'flood-1', 'quiet-0', 'flood-2', 'flood-3', 'flood-4', 'flood-5']);
});

test('a tenant with too many requests waiting is refused with 429 and a retry time; others still queue', async () => {
  const s = new FairScheduler({ concurrency: 1, maxQueuedPerTenant: 2 });
  const log: string[] = [];
  const first = gate(log, 'x');
  const running = s.run('flood', first.fn);
  const queued = [s.run('flood', async () => undefined), s.run('flood', async () => undefined)];
  try {
    await s.run('flood', async () => undefined);
    assert.unreachable('the third waiting request must be refused');
  } catch (e) {
    const err = e as { status: number; code: string; context: { retryAfterSeconds: number } };
    assert.is(err.status, 429);
    assert.is(err.code, 'TS_ERR_RATE_LIMITED');
    assert.is(err.context.retryAfterSeconds, 1);
  }
  const other = s.run('quiet', async () => 'ran');
  first.open();
  assert.is(await other, 'ran');
  await Promise.all([running, ...queued]);
  assert.equal(s.depth(), {});
});

test('the memory guard refuses with 503 over the resident limit, and over the in-flight limit unless nothing else is in flight', () => {
  let rss = 100;
  const g = new MemoryGuard({ maxRssBytes: 1000, maxInflightBytes: 50 }, () => rss);
  const a = g.admit(40);
  const b = g.admit(5);
  assert.is(g.inflightBytes(), 45);
  const refused = (() => {
    try {
      g.admit(10);
      return undefined;
    } catch (e) {
      return e as { status: number; code: string; context: { retryAfterSeconds: number } };
    }
  })();
  assert.is(refused?.status, 503);
  assert.is(refused?.code, 'TS_ERR_OVERLOADED');
  assert.is(refused?.context.retryAfterSeconds, 1);
  a();
  a(); // releasing twice counts once
  b();
  assert.is(g.inflightBytes(), 0);
  const big = g.admit(500); // alone, a body over the in-flight limit still passes
  big();
  rss = 2000;
  assert.throws(() => g.admit(1), /memory limit \(resident memory/);
});

test.run();

// No data loss across crashes: a server in its own process is killed with SIGKILL ten times
// while clients keep sending and resend whatever was not acknowledged (as an OTLP exporter
// does). Afterwards the store holds exactly the acknowledged spans, each once: nothing a
// client heard "accepted" for is lost, and nothing resent is stored twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCli, stopCli, type Serving } from '../support/cli.js';
import { DEMO_CONFIG, bearer } from '../support/server.js';
import { ChdbStore } from '../../src/store/index.js';
import { numberedBatchJson } from '../support/otlp.js';

const BATCHES = 240;
const SPANS_PER_BATCH = 25;
const SENDERS = 6;
const KILLS = 10;

/** One OTLP/JSON request: a batch of spans with ids unique to the batch. Made once, so a resend is the same bytes. */
const bodies = new Map<number, string>();
function batchBody(b: number): string {
  let body = bodies.get(b);
  if (body === undefined) bodies.set(b, (body = makeBody(b)));
  return body;
}

function makeBody(b: number): string {
  return numberedBatchJson(b, SPANS_PER_BATCH, 'order-api', BigInt(Date.now()) * 1_000_000n, { 'tenant.id': 'acme-dist' });
}

// A small seeded generator, so the kill times are the same on every run.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVE_ARGS = (dataDir: string) => [
  '--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1',
  '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0', '--policies', 'off',
];

test(`ten SIGKILLs during ingest lose no acknowledged span and store none twice`, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-crash-'));
  const random = rng(20261123);
  let server: Serving | undefined = await serveCli(SERVE_ARGS(dataDir));
  const acked = new Set<number>();
  const todo = Array.from({ length: BATCHES }, (_, b) => b);
  const counts = { sent: 0, ok: 0, failed: 0, duplicates: 0 };
  let finished = false;

  async function sender(): Promise<void> {
    while (!finished) {
      const b = todo.shift();
      if (b === undefined) {
        if (acked.size === BATCHES) return;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const url = server?.otlpHttpUrl;
      let ok = false;
      if (!url) {
        todo.unshift(b); // between a kill and the restart: wait for the server
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      {
        counts.sent++;
        try {
          const res = await fetch(`${url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...bearer('demo-ingest-acme-dist') },
            body: batchBody(b),
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          ok = res.status === 200;
          if (ok && text.includes('already accepted')) counts.duplicates++;
        } catch {
          ok = false;
        }
      }
      if (ok) {
        acked.add(b);
        counts.ok++;
      } else {
        counts.failed++;
        todo.push(b); // not acknowledged: send it again later, as an exporter retries
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  const senders = Array.from({ length: SENDERS }, sender);
  try {
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 150 + random() * 600));
      const victim = server!;
      server = undefined;
      victim.child.removeAllListeners('exit');
      const exited = new Promise((r) => victim.child.once('exit', r));
      victim.child.kill('SIGKILL');
      await exited;
      server = await serveCli(SERVE_ARGS(dataDir));
    }
    // Let the clients finish what is left on the last server.
    const deadline = Date.now() + 120_000;
    while (acked.size < BATCHES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    finished = true;
    await Promise.all(senders);
    assert.is(acked.size, BATCHES, 'every batch was acknowledged in the end');
    assert.is(await stopCli(server!), 0);
    server = undefined;

    const store = await ChdbStore.open(dataDir);
    try {
      const [spans] = await store.query<{ rows: string; distinct: string; batches: string }>(
        "SELECT count() AS rows, uniqExact(span_id) AS distinct, uniqExact(attributes['batch']) AS batches FROM spans WHERE tenant_id = 'acme-dist'",
      );
      const [rollup] = await store.query<{ requests: string }>("SELECT sum(requests) AS requests FROM resource_minutes WHERE tenant_id = 'acme-dist'");
      const [usage] = await store.query<{ records: string }>("SELECT sum(records) AS records FROM ingest_usage WHERE tenant_id = 'acme-dist' AND outcome = 'accepted'");
      process.stdout.write(
        `  ${KILLS} kills; ${counts.sent} requests sent, ${counts.ok} acknowledged (${counts.duplicates} as already stored), ${counts.failed} failed and resent; ` +
          `${spans!.rows} span rows stored\n`,
      );
      assert.ok(counts.failed > 0, 'the kills interrupted requests (otherwise this test proves nothing)');
      assert.is(Number(spans!.batches), BATCHES, 'every acknowledged batch is stored');
      assert.is(Number(spans!.distinct), BATCHES * SPANS_PER_BATCH, 'every acknowledged span is stored');
      assert.is(Number(spans!.rows), BATCHES * SPANS_PER_BATCH, 'no span is stored twice');
      assert.is(Number(rollup!.requests), BATCHES * SPANS_PER_BATCH, 'the per-minute rollup counts each span once');
      assert.is(Number(usage!.records), BATCHES * SPANS_PER_BATCH, 'usage (what cost is charged from) counts each span once');
    } finally {
      await store.close();
    }
  } finally {
    finished = true;
    if (server) server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

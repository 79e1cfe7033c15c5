// No data loss while the store is down: the service runs on a remote ClickHouse (the HTTP
// test server), which goes away in the middle of ingest (connections refused, then 503
// answers) and comes back. Requests keep being acknowledged from the write-ahead log during
// the outage, clients resend whatever was not, and once the store is back it holds exactly
// the acknowledged spans, each once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startClickHouseTestServer } from '../support/clickhouse-http.js';
import { bearer, startTestServer } from '../support/server.js';
import { numberedBatchJson } from '../support/otlp.js';

const BATCHES = 120;
const SPANS = 10;

function body(b: number): string {
  return numberedBatchJson(b, SPANS, 'stock-api', 1_763_632_800_000_000_000n + BigInt(b) * 1_000_000n);
}

test('while the store is down requests are acknowledged from the log, and afterwards it holds each acknowledged span once', async () => {
  const clickhouse = await startClickHouseTestServer();
  const server = await startTestServer({ clickhouseUrl: clickhouse.url, policies: 'off', writer: { lingerMs: 5, retryMinMs: 50, retryMaxMs: 400 } });
  const bodies = Array.from({ length: BATCHES }, (_, b) => body(b));
  const todo = Array.from({ length: BATCHES }, (_, b) => b);
  const acked = new Set<number>();
  let down = false;
  const counts = { sent: 0, ackedWhileDown: 0, failed: 0 };
  try {
    const sender = async () => {
      for (let b = todo.shift(); b !== undefined; b = todo.shift()) {
        counts.sent++;
        const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', body: bodies[b], headers: { 'content-type': 'application/json', ...bearer('demo-ingest-hooli-wholesale') } });
        await res.arrayBuffer();
        if (res.status === 200) {
          acked.add(b);
          if (down) counts.ackedWhileDown++;
        } else {
          counts.failed++;
          todo.push(b);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const senders = Array.from({ length: 3 }, sender);
    while (acked.size < 20) await new Promise((r) => setTimeout(r, 10));
    down = true;
    await clickhouse.unavailable('refuse');
    await new Promise((r) => setTimeout(r, 700));
    await clickhouse.unavailable('503');
    await new Promise((r) => setTimeout(r, 700));
    await clickhouse.available();
    down = false;
    await Promise.all(senders);
    assert.is(acked.size, BATCHES);
    assert.ok(counts.ackedWhileDown > 0, 'requests were acknowledged while the store was down');

    // The writer drains its backlog in the background once the store answers again.
    let stored = { rows: '0', distinct: '0' };
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      [stored] = await server.store.query<{ rows: string; distinct: string }>("SELECT count() AS rows, uniqExact(span_id) AS distinct FROM spans WHERE tenant_id = 'hooli-wholesale' AND service_name = 'stock-api'") as [typeof stored];
      if (Number(stored.rows) >= BATCHES * SPANS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    process.stdout.write(`  ${counts.sent} requests, ${counts.ackedWhileDown} acknowledged while the store was down, ${counts.failed} resent; ${stored.rows} spans stored\n`);
    assert.is(Number(stored.distinct), BATCHES * SPANS, 'every acknowledged span is stored');
    assert.is(Number(stored.rows), BATCHES * SPANS, 'none twice');
    // The rollup's sums are deferred rows, stored with their table's next insert: settle first.
    await server.settle();
    const [rollup] = await server.store.query<{ n: string }>("SELECT toString(sum(requests)) AS n FROM resource_minutes WHERE tenant_id = 'hooli-wholesale' AND resource = 'service:stock-api'");
    assert.is(rollup!.n, String(BATCHES * SPANS));
  } finally {
    await server.stop();
    await clickhouse.close();
  }
});

test.run();

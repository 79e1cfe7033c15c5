// runs-on: single, cluster
// Native blocks as ingest writes them reach the tables on one node and through the cluster
// layout's Distributed tables alike (test/support/topology.ts): from a block file (the
// write-ahead log's) and from bytes, the rollup's sums through the table that keeps nothing
// into resource_minutes, and a block sent again with its token stored once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChdbStore } from '../src/store/index.js';
import { chunkOf, encodeBlock } from '../src/store/native.js';
import { INGEST_USAGE, RESOURCE_MINUTE_SUMS, SPANS } from '../src/store/schemas.js';
import { WriteAheadLog } from '../src/ingest/wal.js';
import { BatchWriter } from '../src/ingest/writer.js';
import { rootLogger } from '../src/log.js';
import { clusterTopology, openTestStore } from './support/topology.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-native-topology-'));
const log = rootLogger.child({ stage: 'native-topology-test' });
let store: ChdbStore;
const layout = clusterTopology() ? 'the cluster layout' : 'one node';

test.before(async () => {
  store = await openTestStore(join(dir, 'data'));
});
test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const now = Date.now();
const span = (tenant: string, id: string) => ({
  tenant_id: tenant, service_name: 'order-api', kind: 2, name: 'POST /orders', start_time: '1763632801000000000', end_time: '1763632801250000000',
  duration_ns: 250000000, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: id, retention_days: 30, ingested_at: now, attributes: { 'http.route': '/orders' },
});

test(`the writer's blocks, logged as files and inserted from them, are stored on ${layout}`, async () => {
  const { wal } = await WriteAheadLog.open(join(dir, 'wal'), log);
  const writer = new BatchWriter(store, log, { lingerMs: 5 }, {}, wal);
  await Promise.all([
    writer.write('spans', chunkOf(SPANS, [span('topo-a', 'a1'), span('topo-a', 'a2')]), { batchId: 'req-1' }),
    writer.write('spans', chunkOf(SPANS, [span('topo-a', 'a3')]), { batchId: 'req-2' }),
    writer.write('ingest_usage', chunkOf(INGEST_USAGE, [{ tenant_id: 'topo-a', time: now, signal: 'spans', outcome: 'accepted', records: 3, bytes: 10, retention_days: 30, kept_days: 30, batch_id: 'req-1' }]), { deferred: true, after: 'req-1' }),
  ]);
  await writer.close();
  const spans = await store.query<{ span_id: string; attributes: Record<string, string> }>("SELECT span_id, attributes FROM spans WHERE tenant_id = 'topo-a' ORDER BY span_id");
  assert.equal(spans, [1, 2, 3].map((i) => ({ span_id: `a${i}`, attributes: { 'http.route': '/orders' } })));
  const [usage] = await store.query<{ records: string }>("SELECT toString(sum(records)) AS records FROM ingest_usage WHERE tenant_id = 'topo-a'");
  assert.is(usage!.records, '3');
});

test(`a Native block sent again with the same token is stored once on ${layout}, rollup sums included`, async () => {
  const block = { bytes: encodeBlock(SPANS, [chunkOf(SPANS, [span('topo-b', 'b1'), span('topo-b', 'b2')])]) };
  for (let i = 0; i < 3; i++) await store.insertNative('spans', block, 2, { dedupToken: 'topo-block-1' });
  await store.insertNative('spans', block, 2, { dedupToken: 'topo-block-2' });
  const [n] = await store.query<{ n: string }>("SELECT count() AS n FROM spans WHERE tenant_id = 'topo-b'");
  assert.is(n!.n, '4', 'three sends of one token, one of another: the token decides, not the bytes');
  const sums = {
    bytes: encodeBlock(RESOURCE_MINUTE_SUMS, [
      chunkOf(RESOURCE_MINUTE_SUMS, [{ minute: 1763632800, resource: 'service:order-api', tenant_id: 'topo-b', name: 'POST /orders', requests: 2, busy_ns: 500000000, slowest_trace: 't-b', slowest_ns: 250000000, retention_days: 30, received: Math.floor(now / 1000) }]),
    ]),
  };
  for (let i = 0; i < 3; i++) await store.insertNative('resource_minute_sums', sums, 1, { dedupToken: 'topo-sums-1' });
  await store.insertNative('resource_minute_sums', sums, 1, { dedupToken: 'topo-sums-2' });
  const [r] = await store.query<{ n: string; slowest: string }>("SELECT toString(sum(requests)) AS n, argMaxMerge(slowest) AS slowest FROM resource_minutes WHERE tenant_id = 'topo-b'");
  assert.equal(r, { n: '4', slowest: 't-b' });
});

test.run();

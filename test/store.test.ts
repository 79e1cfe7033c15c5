// The embedded store: migrations are versioned and safe to re-run, every telemetry table
// leads with tenant_id and is partitioned by time, and rows expire by their own tenant's
// retention, so one table serves tenants with different retention.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore, migrate, loadMigrations } from '../src/store/index.js';
import { spanRows } from '../src/ingest/rows.js';
import type { ResourceGroup, SpanRecord } from '../src/ingest/otlp/types.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-store-'));
let store: ChdbStore;

test.before(async () => {
  store = await ChdbStore.open(dir);
});
test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the first start applies every migration and records it in schema_migrations', async () => {
  const applied = await migrate(store);
  const all = loadMigrations().map((m) => m.version);
  assert.equal(applied, all);
  const recorded = await store.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
  assert.equal(recorded.map((r) => r.version), all);
});

test('running the migrations again applies nothing and keeps the data', async () => {
  await store.exec("INSERT INTO ingest_usage (tenant_id, time, signal, outcome, records, retention_days) VALUES ('acme-dist', now64(3), 'spans', 'accepted', 5, 30)");
  assert.equal(await migrate(store), []);
  const [n] = await store.query<{ n: string }>('SELECT count() AS n FROM ingest_usage');
  assert.is(n!.n, '1');
});

test('a migration edited after it was applied is refused with a clear message', async () => {
  const edited = loadMigrations().map((m) => (m.version === 1 ? { ...m, checksum: 'f'.repeat(64) } : m));
  try {
    await migrate(store, {}, edited);
    assert.unreachable('should refuse');
  } catch (e) {
    assert.match((e as Error).message, /changed after it was applied/);
  }
});

for (const table of ['spans', 'logs', 'metric_points', 'ingest_usage']) {
  test(`${table} leads its sort key with tenant_id, is partitioned by time and has a TTL`, async () => {
    const [t] = await store.query<{ sorting_key: string; partition_key: string; create_table_query: string }>(
      'SELECT sorting_key, partition_key, create_table_query FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
      { t: table },
    );
    assert.ok(t, `${table} exists`);
    assert.ok(t!.sorting_key.startsWith('tenant_id'), t!.sorting_key);
    assert.match(t!.partition_key, /toDate|toYYYYMM/);
    assert.match(t!.create_table_query, /TTL .*retention_days/);
  });
}

test('rows expire by their own retention: one table keeps a 60-day tenant and drops a 30-day one', async () => {
  const group: ResourceGroup<SpanRecord> = {
    resource: { attributes: { 'service.name': 'ttl-check' }, droppedAttributesCount: 0, schemaUrl: '' },
    items: [
      {
        scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0, schemaUrl: '' },
        traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '', traceState: '', flags: 0,
        name: 'GET /x', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000',
        attributes: {}, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, statusCode: 0, statusMessage: '',
      },
    ],
  };
  // Both rows were received 45 days ago; only the tenant keeping spans 60 days still has them.
  const received = Date.now() - 45 * 86_400_000;
  for (const [tenantId, retentionDays] of [['short-keep', 30], ['long-keep', 60]] as const) {
    const enc = spanRows({ tenantId, retentionDays, batchId: 'ttl' }, [group]);
    const line = enc.text.replace(/}\n$/, `,"ingested_at":${received}}\n`);
    await store.insertJsonEachRow('spans', Buffer.from(line), 1);
  }
  await store.exec('OPTIMIZE TABLE spans FINAL');
  const rows = await store.query<{ tenant_id: string }>("SELECT tenant_id FROM spans WHERE service_name = 'ttl-check' ORDER BY tenant_id");
  assert.equal(rows.map((r) => r.tenant_id), ['long-keep']);
});

test('values reach ClickHouse as bound parameters, so SQL in a value is inert', async () => {
  const evil = "x'); DROP TABLE spans; --";
  const [r] = await store.query<{ v: string }>('SELECT {v:String} AS v', { v: evil });
  assert.is(r!.v, evil);
  const [n] = await store.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE name = 'spans' AND database = currentDatabase()");
  assert.is(n!.n, '1');
});

test('a second data directory in the same process is refused with a clear message', async () => {
  try {
    await ChdbStore.open(join(dir, 'other'));
    assert.unreachable('should refuse');
  } catch (e) {
    assert.match((e as Error).message, /already has .* open/);
  }
});

test.run();

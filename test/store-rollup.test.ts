// The per-minute resource rollup behind the noisy-neighbour and cost reports: filled from the
// spans already stored when its migration runs (once), and by its materialized view after.
// (Its own file: chDB opens one data directory per process.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore, migrate, loadMigrations } from '../src/store/index.js';

test('spans stored before the per-minute rollup existed are rolled up once by its migration, later ones by its view', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tenantscope-rollup-'));
  const s = await ChdbStore.open(d);
  try {
    const all = loadMigrations();
    await migrate(s, {}, all.filter((m) => m.version < 6));
    const insert = (trace: string, ms: number) =>
      s.exec(
        `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, trace_id, span_id, name, kind, retention_days)
         VALUES ('acme-dist', 'order-api', '2026-11-20 10:00:01', '2026-11-20 10:00:01', {ns:UInt64}, {trace:String}, 'a', 'GET /x', 2, 30)`,
        { ns: ms * 1e6, trace },
      );
    await insert('before', 30);
    assert.equal(await migrate(s, {}, all.filter((m) => m.version <= 6)), [6]);
    await insert('after', 50);
    const rows = await s.query<{ resource: string; requests: string; busy_ns: string; slowest: string }>(
      `SELECT resource, sum(requests) AS requests, sum(busy_ns) AS busy_ns, argMaxMerge(slowest) AS slowest
         FROM resource_minutes WHERE minute = '2026-11-20 10:00:00' GROUP BY resource`,
    );
    assert.equal(rows, [{ resource: 'service:order-api', requests: '2', busy_ns: '80000000', slowest: 'after' }]);
  } finally {
    await s.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test.run();

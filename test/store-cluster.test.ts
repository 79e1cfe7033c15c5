// Cluster mode: the same migrations rendered for a ClickHouse cluster. Replicated tables and
// ON CLUSTER need Keeper, which cannot run here, so ClickHouse itself parses every rendered
// statement; the Distributed layout those statements build runs for real in the report tests'
// cluster topology (test/support/topology.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore, loadMigrations, renderStatements } from '../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-cluster-'));
let store: ChdbStore;

test.before(async () => {
  store = await ChdbStore.open(dir);
});
test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rendered = loadMigrations().flatMap((m) => renderStatements(m.sql, { cluster: 'tenantscope' }));

test('every cluster statement of every migration is valid ClickHouse SQL', async () => {
  assert.ok(rendered.length >= 20, `${rendered.length} statements`);
  for (const s of rendered) {
    const [formatted] = await store.query<{ q: string }>('SELECT formatQuery({s:String}) AS q', { s });
    assert.ok(formatted!.q.length > 0, s.slice(0, 80));
  }
});

test('each table is a replicated local table on every node with a Distributed table over it, sharded by tenant', () => {
  const tables = rendered.map((s) => /^CREATE TABLE IF NOT EXISTS (\w+)_local ON CLUSTER tenantscope\b/.exec(s)?.[1]).filter((t): t is string => !!t);
  assert.equal(tables.sort(), ['audit_events', 'ingest_usage', 'logs', 'metric_points', 'recovery_events', 'redactions', 'resource_minute_sums', 'resource_minutes', 'spans', 'violations']);
  for (const t of tables) {
    const local = rendered.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${t}_local `))!;
    // A table that keeps nothing has nothing to replicate.
    if (t === 'resource_minute_sums') assert.match(local, /ENGINE = Null\s*$/);
    else assert.match(local, new RegExp(`Replicated\\w*MergeTree\\('/clickhouse/tables/\\{shard\\}/\\{database\\}/${t}', '\\{replica\\}'\\)`));
    const dist = rendered.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${t} `));
    assert.is(dist, `CREATE TABLE IF NOT EXISTS ${t} ON CLUSTER tenantscope AS ${t}_local ENGINE = Distributed(tenantscope, currentDatabase(), ${t}_local, cityHash64(tenant_id))`);
  }
});

test('the rollup view reads and writes the local tables, so each shard rolls up the sums of the tenants it stores', () => {
  const views = rendered.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
  // The first view (migration 0006, on spans) is dropped on every node by migration 0008.
  assert.match(views[0]!, /^CREATE MATERIALIZED VIEW IF NOT EXISTS resource_minutes_mv ON CLUSTER tenantscope TO resource_minutes_local AS/);
  assert.ok(rendered.includes('DROP VIEW IF EXISTS resource_minutes_mv ON CLUSTER tenantscope'));
  const mv = views.find((v) => v.startsWith('CREATE MATERIALIZED VIEW IF NOT EXISTS resource_minutes_from_sums '))!;
  assert.match(mv, /ON CLUSTER tenantscope TO resource_minutes_local AS/);
  assert.match(mv, /FROM resource_minute_sums_local\b/);
  assert.not.match(mv, /FROM resource_minute_sums\b(?!_)/);
});

test('the recovery views read the local audit and log tables and write the local recovery table', () => {
  for (const [view, source] of [['recovery_events_from_audit', 'audit_events'], ['recovery_events_from_logs', 'logs']] as const) {
    const mv = rendered.find((s) => s.startsWith(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${view} `))!;
    assert.match(mv, /ON CLUSTER tenantscope TO recovery_events_local AS/);
    assert.match(mv, new RegExp(`FROM ${source}_local\\b`));
  }
});

test('a column added by a later migration reaches the local tables and the Distributed table', () => {
  const alters = rendered.filter((s) => s.startsWith('ALTER TABLE spans') && s.includes('ADD COLUMN'));
  assert.equal(alters.map((s) => s.split(' ').slice(0, 3).join(' ')), ['ALTER TABLE spans_local', 'ALTER TABLE spans']);
  for (const a of alters) assert.match(a, /ON CLUSTER tenantscope\s+ADD COLUMN IF NOT EXISTS shared_resource/);
});

test('a statement without a cluster form is refused by name instead of guessed at', () => {
  assert.throws(() => renderStatements('CREATE VIEW v $ON_CLUSTER AS SELECT 1', { cluster: 'tenantscope' }), /no cluster form: CREATE VIEW v/);
  assert.throws(() => renderStatements('SELECT 1', { cluster: 'bad name; DROP' }), /invalid cluster name/);
});

test('table settings (insert deduplication, vertical merges, projections) go to the local tables only: a Distributed table has none', () => {
  const settings = rendered.filter((s) => s.includes('MODIFY SETTING'));
  assert.is(settings.filter((s) => s.includes('non_replicated_deduplication_window')).length, 8);
  assert.is(settings.filter((s) => s.includes('vertical_merge_algorithm_min_rows_to_activate')).length, 3);
  assert.is(settings.filter((s) => s.includes('deduplicate_merge_projection_mode')).length, 1);
  for (const s of settings) assert.match(s, /^ALTER TABLE \w+_local ON CLUSTER tenantscope MODIFY SETTING (non_replicated_deduplication_window|vertical_merge_algorithm|deduplicate_merge_projection_mode)/);
  const projections = rendered.filter((s) => s.includes('PROJECTION'));
  assert.is(projections.length, 2);
  for (const s of projections) assert.match(s, /^ALTER TABLE resource_minutes_local ON CLUSTER tenantscope\s+(ADD|MATERIALIZE) PROJECTION/);
});

test('one node renders the same migrations without cluster clauses', () => {
  const single = loadMigrations().flatMap((m) => renderStatements(m.sql));
  for (const s of single) assert.not.match(s, /ON CLUSTER|Replicated|Distributed|_local\b|\$/);
});

test.run();

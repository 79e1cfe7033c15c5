// Versioned migrations: `migrations/NNNN_name.sql`, applied in order at start and recorded in
// `schema_migrations`. Running start again on the same data is safe: applied versions are
// skipped, and every statement is idempotent (IF NOT EXISTS) in case a run stopped halfway.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fromRoot } from '../paths.js';
import { tsError } from '../errors.js';
import type { Store } from './types.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/**
 * How DDL is rendered: one node, or a named ClickHouse cluster. On a cluster every table is
 * created as `<name>_local` on each node (replicated within its shard) with a `Distributed`
 * table `<name>` over them, sharded by tenant, so the queries above the store stay the same.
 */
export interface DdlTarget {
  cluster?: string;
  /**
   * Replicated engines and ON CLUSTER (default true). False only for a test cluster without
   * Keeper, where the same Distributed layout runs on one node.
   */
  replicated?: boolean;
}

const MIGRATIONS_DIR = fromRoot('src', 'store', 'migrations');

/** Read the migration files in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = readFileSync(`${dir}/${f}`, 'utf8');
      return {
        version: Number(f.slice(0, 4)),
        name: f.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

// Every row of a tenant lives on one shard. The per-minute rollup is filled on the shard that
// stores the spans, so all partial rows of one rollup key meet on one shard and FINAL (applied
// per shard by a Distributed read) still folds them completely; a tenant's reads touch one
// shard. The price: a shard must hold its largest tenant.
const SHARDING_KEY = 'cityHash64(tenant_id)';

/** Render a migration's placeholders for the target and split it into statements. */
export function renderStatements(sql: string, target: DdlTarget = {}): string[] {
  const statements = sql
    .replace(/^\s*--.*$/gm, '')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (!target.cluster) return statements.map((s) => renderEngine(s.replace(/\$ON_CLUSTER/g, ''), undefined));
  const cluster = quoteIdent(target.cluster);
  const replicated = target.replicated !== false;
  const on = replicated ? `ON CLUSTER ${cluster}` : '';
  return statements.flatMap((s) => clusterStatements(s, cluster, on, replicated));
}

// $ENGINE(table) or $ENGINE(table, Variant) with Variant one of MergeTree's family
// (Aggregating, Replacing, ...): the replicated form on a replicated cluster.
function renderEngine(stmt: string, replicated: boolean | undefined): string {
  return stmt.replace(/\$ENGINE\((\w+)(?:,\s*(\w+))?\)/g, (_m, table: string, variant: string | undefined) => {
    const family = `${variant ?? ''}MergeTree`;
    return replicated ? `Replicated${family}('/clickhouse/tables/{shard}/{database}/${table}', '{replica}')` : family;
  });
}

// One migration statement as a cluster runs it. Only the statement forms the migrations use
// are known; anything else is refused rather than guessed at, so a new migration that needs
// a cluster form gets one written for it.
function clusterStatements(stmt: string, cluster: string, on: string, replicated: boolean): string[] {
  const withOn = (s: string) => s.replace(/\$ON_CLUSTER/g, on);
  // A table keeping nothing (Null) gets the same pair: writes through the Distributed table
  // reach the shard of their tenant, where the views on the local table fire.
  let m = /^CREATE TABLE IF NOT EXISTS (\w+) \$ON_CLUSTER\b/.exec(stmt);
  if (m && (/\$ENGINE\(/.test(stmt) || /\bENGINE = Null\s*$/.test(stmt))) {
    const t = m[1]!;
    const local = renderEngine(withOn(stmt.replace(m[0], `CREATE TABLE IF NOT EXISTS ${t}_local $ON_CLUSTER`)), replicated);
    const dist = `CREATE TABLE IF NOT EXISTS ${t} ${on} AS ${t}_local ENGINE = Distributed(${cluster}, currentDatabase(), ${t}_local, ${SHARDING_KEY})`;
    return [local, dist];
  }
  // A materialized view fires on inserts into the node's local table and writes to its local
  // target: each shard rolls up the rows it stores.
  m = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) \$ON_CLUSTER TO (\w+) AS\b/.exec(stmt);
  if (m) {
    return [withOn(stmt.replace(/\bTO (\w+) AS\b/, 'TO $1_local AS').replace(/\bFROM (\w+)/g, 'FROM $1_local'))];
  }
  m = /^DROP VIEW IF EXISTS \w+ \$ON_CLUSTER$/.exec(stmt);
  if (m) return [withOn(stmt)];
  // Column changes apply to the local tables and to the Distributed table over them; table
  // settings and projections exist only on the local (MergeTree) tables.
  m = /^ALTER TABLE (\w+) \$ON_CLUSTER\b/.exec(stmt);
  if (m) {
    const t = m[1]!;
    const local = withOn(stmt.replace(m[0], `ALTER TABLE ${t}_local $ON_CLUSTER`));
    return /\bMODIFY SETTING\b|\bPROJECTION\b/.test(stmt) ? [local] : [local, withOn(stmt)];
  }
  // Data statements go through the Distributed tables, once, from the node that migrates.
  if (/^INSERT INTO \w+/.test(stmt) && !stmt.includes('$')) return [stmt];
  throw tsError('TS_ERR_CONFIG', [`migration statement has no cluster form: ${stmt.slice(0, 80)}`]);
}

function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw tsError('TS_ERR_CONFIG', [`invalid cluster name ${JSON.stringify(name)}`]);
  return name;
}

/** Apply every migration not yet recorded; returns the versions applied now. */
export async function migrate(store: Store, target: DdlTarget = {}, migrations = loadMigrations()): Promise<number[]> {
  // One history for the whole cluster: replicated to every node (no {shard} in its path), so
  // a node of any shard sees what another applied.
  const replicated = !!target.cluster && target.replicated !== false;
  const onCluster = replicated ? ` ON CLUSTER ${quoteIdent(target.cluster!)}` : '';
  const engine = replicated ? "ReplicatedMergeTree('/clickhouse/tables/{database}/schema_migrations', '{replica}')" : 'MergeTree';
  await store.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations${onCluster} (version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)) ENGINE = ${engine} ORDER BY version`,
  );
  const rows = await store.query<{ version: number; checksum: string; name: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const applied = new Map(rows.map((r) => [Number(r.version), r]));
  const done: number[] = [];
  for (const m of migrations) {
    const prior = applied.get(m.version);
    if (prior) {
      if (prior.checksum !== m.checksum) {
        throw tsError('TS_ERR_CONFIG', [
          `migration ${m.version}_${m.name} changed after it was applied (recorded checksum ${prior.checksum.slice(0, 12)}, file ${m.checksum.slice(0, 12)}); add a new migration instead`,
        ]);
      }
      continue;
    }
    for (const stmt of renderStatements(m.sql, target)) await store.exec(stmt);
    await store.exec(
      'INSERT INTO schema_migrations (version, name, checksum) VALUES ({version:UInt32}, {name:String}, {checksum:String})',
      { version: m.version, name: m.name, checksum: m.checksum },
    );
    done.push(m.version);
  }
  return done;
}

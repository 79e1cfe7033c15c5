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

/** How DDL is rendered: single node, or a named ClickHouse cluster with replicated tables. */
export interface DdlTarget {
  cluster?: string;
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

/** Render a migration's placeholders for the target and split it into statements. */
export function renderStatements(sql: string, target: DdlTarget = {}): string[] {
  const onCluster = target.cluster ? `ON CLUSTER ${quoteIdent(target.cluster)}` : '';
  const rendered = sql
    .replace(/^\s*--.*$/gm, '')
    .replace(/\$ON_CLUSTER/g, onCluster)
    // $ENGINE(table) or $ENGINE(table, Variant) with Variant one of MergeTree's family
    // (Aggregating, Replacing, ...): the replicated form on a cluster.
    .replace(/\$ENGINE\((\w+)(?:,\s*(\w+))?\)/g, (_m, table: string, variant: string | undefined) => {
      const family = `${variant ?? ''}MergeTree`;
      return target.cluster ? `Replicated${family}('/clickhouse/tables/{shard}/{database}/${table}', '{replica}')` : family;
    });
  return rendered
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw tsError('TS_ERR_CONFIG', [`invalid cluster name ${JSON.stringify(name)}`]);
  return name;
}

/** Apply every migration not yet recorded; returns the versions applied now. */
export async function migrate(store: Store, target: DdlTarget = {}, migrations = loadMigrations()): Promise<number[]> {
  const onCluster = target.cluster ? ` ON CLUSTER ${quoteIdent(target.cluster)}` : '';
  const engine = target.cluster
    ? "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/schema_migrations', '{replica}')"
    : 'MergeTree';
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

// What one tenant's data is, table by table, and how to read, fingerprint and match it. The
// export, restore and erase of a tenant all go through these descriptions, so they agree on
// which rows are the tenant's and how two copies are compared.
//
// A fingerprint is the row count with the XOR and the wrapping sum of a 64-bit hash of each
// row's text (every stored column, as the engine formats it): the same rows in any order and
// any parts give the same fingerprint, and the sum sees a row stored twice, which the XOR
// alone cannot. Tables that fold rows of one key in the background (the rollup, violations)
// are read as folded (FINAL), so a copy compares equal whatever its merge state.
import { randomBytes } from 'node:crypto';
import type { Params, Store, TableName } from '../store/types.js';

/** A table holding tenant rows, and the column that places a row in time. */
export interface TenantTable {
  table: TableName;
  /** The column a period (from, to) applies to. */
  time: string;
  /** Rows of one key fold in the background: read as folded. */
  folded: boolean;
  /** When tenantscope received the row (the latest receipt, for a folded row): ingest after an operation began is told apart by it. */
  received: string;
  /** The precision of `received` in ms (a row received in the same second or minute as the operation's start may be newer). */
  grainMs: number;
  /** Folded tables: the columns of a row's key. */
  key?: readonly string[];
  /** Filled by a view from other tables as they are inserted: erased and compared, never exported or restored (a restore refills it). */
  derived?: boolean;
}

/** Every table a tenant's data lives in (the `resource_minute_sums` input keeps nothing). */
export const TENANT_TABLES: readonly TenantTable[] = [
  { table: 'spans', time: 'start_time', folded: false, received: 'ingested_at', grainMs: 1 },
  { table: 'logs', time: 'time', folded: false, received: 'ingested_at', grainMs: 1 },
  { table: 'metric_points', time: 'time', folded: false, received: 'ingested_at', grainMs: 1 },
  { table: 'audit_events', time: 'time', folded: false, received: 'received_at', grainMs: 1 },
  { table: 'redactions', time: 'minute', folded: false, received: 'minute', grainMs: 60_000 },
  { table: 'violations', time: 'last_seen', folded: true, received: 'last_seen', grainMs: 1, key: ['tenant_id', 'policy', 'rule', 'subject'] },
  { table: 'ingest_usage', time: 'time', folded: false, received: 'time', grainMs: 1 },
  { table: 'resource_minutes', time: 'minute', folded: true, received: 'received', grainMs: 1_000, key: ['minute', 'resource', 'tenant_id', 'name'] },
  { table: 'recovery_events', time: 'time', folded: false, received: 'received_at', grainMs: 1, derived: true },
];

/** The tables a tenant's bundle carries: all but the derived ones. */
export const BUNDLED_TABLES: readonly TenantTable[] = TENANT_TABLES.filter((t) => !t.derived);

/** A stored column (not computed on insert) and its type. */
export interface StoredColumn {
  name: string;
  type: string;
}

/** The columns a row of `table` is made of: those an insert writes (materialized and alias columns are computed). */
export async function storedColumns(store: Store, table: TableName, database?: string): Promise<StoredColumn[]> {
  return store.query<StoredColumn>(
    `SELECT name, type FROM system.columns
      WHERE database = ${database === undefined ? 'currentDatabase()' : '{database:String}'} AND table = {table:String}
        AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL')
      ORDER BY position`,
    { table, ...(database === undefined ? {} : { database }) },
  );
}

/**
 * Where a table is read: the store's own tables, or a scratch database of plain copies (a
 * restore drill), whose rows are already folded and which never fold (no FINAL there).
 */
export interface TableSite {
  database?: string;
}

/** The table's name as a query names it at `site`. */
export function tableAt(t: TenantTable, site: TableSite = {}): string {
  return site.database === undefined ? t.table : `${ident(site.database)}.${t.table}`;
}

/** A period: milliseconds since the epoch, from inclusive, to exclusive; either may be open. */
export interface Period {
  fromMs?: number;
  toMs?: number;
}

export const ident = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** Aggregate states do not travel in Parquet: they are carried as their bytes (a String). */
export function isState(type: string): boolean {
  return type.startsWith('AggregateFunction(');
}

/** The tenant's rows of a table in a period, as a FROM source and a WHERE condition (params: tenant, fromMs, toMs). */
export function tenantRows(t: TenantTable, period: Period, site: TableSite = {}): { source: string; where: string; params: (tenant: string) => Params } {
  const source = t.folded && site.database === undefined ? `(SELECT * FROM ${t.table} FINAL WHERE tenant_id = {tenant:String})` : tableAt(t, site);
  const conds = ['tenant_id = {tenant:String}'];
  if (period.fromMs !== undefined) conds.push(`${ident(t.time)} >= fromUnixTimestamp64Milli({fromMs:Int64})`);
  if (period.toMs !== undefined) conds.push(`${ident(t.time)} < fromUnixTimestamp64Milli({toMs:Int64})`);
  return {
    source,
    where: conds.join(' AND '),
    params: (tenant) => ({ tenant, ...(period.fromMs !== undefined ? { fromMs: period.fromMs } : {}), ...(period.toMs !== undefined ? { toMs: period.toMs } : {}) }),
  };
}

/** A table's rows of one tenant, fingerprinted (see the header). */
export interface Fingerprint {
  rows: number;
  /** `<xor>-<sum>` of the rows' hashes, 16 hex digits each. */
  checksum: string;
  /** Earliest and latest time of a row (ISO 8601), or null without rows. */
  first_time: string | null;
  last_time: string | null;
}

/** The hash of one row over its stored columns. */
export function rowHash(columns: readonly StoredColumn[]): string {
  return `cityHash64(formatRow('TabSeparated', ${columns.map((c) => ident(c.name)).join(', ')}))`;
}

/** Fingerprint a tenant's rows of a table in a period. */
export async function fingerprint(store: Store, t: TenantTable, tenant: string, period: Period = {}, columns?: readonly StoredColumn[], site: TableSite = {}): Promise<Fingerprint> {
  const cols = columns ?? (await storedColumns(store, t.table, site.database));
  const r = tenantRows(t, period, site);
  const [row] = await store.query<{ rows: string; x: string; s: string; first: string | null; last: string | null }>(
    `SELECT count() AS rows, lower(hex(groupBitXor(h))) AS x, lower(hex(sum(h))) AS s,
            if(count() = 0, NULL, toString(min(tc))) AS first, if(count() = 0, NULL, toString(max(tc))) AS last
       FROM (SELECT ${rowHash(cols)} AS h, ${ident(t.time)} AS tc FROM ${r.source} WHERE ${r.where})`,
    r.params(tenant),
  );
  const rows = Number(row?.rows ?? 0);
  return {
    rows,
    checksum: `${pad16(row?.x ?? '0')}-${pad16(row?.s ?? '0')}`,
    first_time: rows > 0 && row?.first ? isoTime(row.first) : null,
    last_time: rows > 0 && row?.last ? isoTime(row.last) : null,
  };
}

// hex() of a UInt64 drops leading zero bytes; a fingerprint always has 16 digits.
function pad16(h: string): string {
  return h.padStart(16, '0');
}

// The engine's `YYYY-MM-DD hh:mm:ss[.fff…]` (UTC here) as ISO 8601.
function isoTime(t: string): string {
  return `${t.replace(' ', 'T')}Z`;
}

/**
 * Other tenants' data as an operation on one tenant (restore, erase) must leave it. Rows that
 * ingest adds or updates while the operation runs are told apart by their receipt time: only
 * what was received INGEST_MARGIN_MS before the operation began is compared, since a request
 * received just before may still be on its way to the store (its rows carry the time it was
 * received, and are inserted with a later group insert, deferred rows within seconds).
 */
export const INGEST_MARGIN_MS = 30_000;

/** The other tenants' state an isolation check compares, taken before an operation. */
export interface IsolationSnapshot {
  tenants: readonly string[];
  sinceMs: number;
  /** Append-only tables: `tenant -> table -> rows:checksum` of the rows received before sinceMs. */
  appended: Record<string, Record<string, string>>;
  /**
   * Folded tables are compared key by key in the store: each key's row hash is kept in a
   * scratch database until the check ends, so no key list passes through this process.
   */
  scratch: string;
}

// A folded table's rows of `tenants`: key, row hash, and whether the key was received again
// since `cut` (ms, at the receipt column's precision).
function foldedRows(t: TenantTable, cols: readonly StoredColumn[], cut: number): string {
  return `SELECT concat(${t.key!.map((c) => `toString(${ident(c)})`).join(", '\\0', ")}) AS k, ${rowHash(cols)} AS h,
                 toUnixTimestamp64Milli(toDateTime64(${ident(t.received)}, 3)) >= ${Math.trunc(cut)} AS r
            FROM (SELECT * FROM ${t.table} FINAL WHERE tenant_id IN {tenants:Array(String)})`;
}

/**
 * Fingerprint (`rows:checksum`) of each of `tenants`' rows of `t` into `out[tenant][table]`;
 * `source` is where the rows are read, `where` what else they must satisfy.
 */
async function fingerprintsByTenant(store: Store, t: TenantTable, tenants: readonly string[], source: string, where: string, params: Params, out: Record<string, Record<string, string>>): Promise<void> {
  const cols = await storedColumns(store, t.table);
  const rows = await store.query<{ tenant_id: string; rows: string; x: string; s: string }>(
    `SELECT tenant_id, count() AS rows, lower(hex(groupBitXor(h))) AS x, lower(hex(sum(h))) AS s
       FROM (SELECT tenant_id, ${rowHash(cols)} AS h FROM ${source} WHERE tenant_id IN {tenants:Array(String)}${where})
      GROUP BY tenant_id`,
    { tenants: [...tenants], ...params },
  );
  for (const tenant of tenants) out[tenant]![t.table] = '0:0000000000000000-0000000000000000';
  for (const r of rows) out[r.tenant_id]![t.table] = `${Number(r.rows)}:${pad16(r.x)}-${pad16(r.s)}`;
}

async function appendedFingerprints(store: Store, tenants: readonly string[], sinceMs: number): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = Object.fromEntries(tenants.map((t) => [t, {}]));
  for (const t of TENANT_TABLES.filter((x) => !x.folded)) {
    const since = Math.floor(sinceMs / t.grainMs) * t.grainMs;
    await fingerprintsByTenant(store, t, tenants, t.table, ` AND ${ident(t.received)} < fromUnixTimestamp64Milli({since:Int64})`, { since }, out);
  }
  return out;
}

/** Snapshot `tenants`' rows received well before the operation began at `startedMs`; end it with isolationChanges. */
export async function isolationSnapshot(store: Store, tenants: readonly string[], startedMs: number): Promise<IsolationSnapshot> {
  const sinceMs = startedMs - INGEST_MARGIN_MS;
  const scratch = `tenantscope_isolation_${randomBytes(6).toString('hex')}`;
  const appended = await appendedFingerprints(store, tenants, sinceMs);
  await store.exec(`CREATE DATABASE ${ident(scratch)}`);
  try {
    for (const t of TENANT_TABLES.filter((x) => x.folded)) {
      const cols = await storedColumns(store, t.table);
      await store.exec(`CREATE TABLE ${ident(scratch)}.${t.table} ENGINE = Memory AS SELECT k, h FROM (${foldedRows(t, cols, sinceMs)})`, { tenants: [...tenants] });
    }
  } catch (e) {
    await dropScratch(store, scratch);
    throw e;
  }
  return { tenants, sinceMs, appended, scratch };
}

/**
 * What differs for the snapshot's tenants now: empty when the operation left them as they
 * were. Ends the snapshot (its scratch database is dropped).
 */
export async function isolationChanges(store: Store, before: IsolationSnapshot): Promise<string[]> {
  try {
    const out: string[] = [];
    const now = await appendedFingerprints(store, before.tenants, before.sinceMs);
    for (const [tenant, tables] of Object.entries(before.appended)) {
      for (const [table, f] of Object.entries(tables)) if (now[tenant]?.[table] !== f) out.push(`${table} of ${tenant}: ${f} -> ${now[tenant]?.[table]}`);
    }
    for (const t of TENANT_TABLES.filter((x) => x.folded)) {
      const cols = await storedColumns(store, t.table);
      const cut = Math.floor(before.sinceMs / t.grainMs) * t.grainMs;
      // A key received again since the operation began is ingest's doing; any other difference
      // is not. One full join: a side without the key reads as '' (keys are never empty).
      const [r] = await store.query<{ gone: string; changed: string; appeared: string }>(
        `SELECT countIf(a.k = '') AS gone, countIf(a.k != '' AND b.k != '' AND a.h != b.h AND NOT a.r) AS changed, countIf(b.k = '' AND NOT a.r) AS appeared
           FROM ${ident(before.scratch)}.${t.table} AS b
           FULL OUTER JOIN (${foldedRows(t, cols, cut)}) AS a ON a.k = b.k
          SETTINGS join_use_nulls = 0`,
        { tenants: [...before.tenants] },
      );
      if (Number(r?.gone) > 0) out.push(`${t.table}: ${r!.gone} row(s) gone`);
      if (Number(r?.changed) > 0) out.push(`${t.table}: ${r!.changed} row(s) changed without being received again`);
      if (Number(r?.appeared) > 0) out.push(`${t.table}: ${r!.appeared} row(s) appeared that were not received after the operation began`);
    }
    return out;
  } finally {
    await dropScratch(store, before.scratch);
  }
}

/** Drop an isolation snapshot's scratch database without comparing (the operation failed). */
export async function dropScratch(store: Store, scratch: string): Promise<void> {
  await store.exec(`DROP DATABASE IF EXISTS ${ident(scratch)} SYNC`);
}

/** Fingerprints (`rows:checksum`) of every tenant table for each of `tenants`: everything stored now (tests and tools). */
export async function tenantFingerprints(store: Store, tenants: readonly string[]): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = Object.fromEntries(tenants.map((t) => [t, {}]));
  for (const t of TENANT_TABLES) {
    const source = t.folded ? `(SELECT * FROM ${t.table} FINAL WHERE tenant_id IN {tenants:Array(String)})` : t.table;
    await fingerprintsByTenant(store, t, tenants, source, '', {}, out);
  }
  return out;
}

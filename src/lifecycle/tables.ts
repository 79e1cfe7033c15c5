// What one tenant's data is, table by table, and how to read, fingerprint and match it. The
// export, restore and erase of a tenant all go through these descriptions, so they agree on
// which rows are the tenant's and how two copies are compared.
//
// A fingerprint is the row count with the XOR and the wrapping sum of a 64-bit hash of each
// row's text (every stored column, as the engine formats it): the same rows in any order and
// any parts give the same fingerprint, and the sum sees a row stored twice, which the XOR
// alone cannot. Tables that fold rows of one key in the background (the rollup, violations)
// are read as folded (FINAL), so a copy compares equal whatever its merge state.
import type { Params, Store, TableName } from '../store/types.js';

/** A table holding tenant rows, and the column that places a row in time. */
export interface TenantTable {
  table: TableName;
  /** The column a period (from, to) applies to. */
  time: string;
  /** Rows of one key fold in the background: read as folded. */
  folded: boolean;
}

/** Every table a tenant's data lives in (the `resource_minute_sums` input keeps nothing). */
export const TENANT_TABLES: readonly TenantTable[] = [
  { table: 'spans', time: 'start_time', folded: false },
  { table: 'logs', time: 'time', folded: false },
  { table: 'metric_points', time: 'time', folded: false },
  { table: 'audit_events', time: 'time', folded: false },
  { table: 'redactions', time: 'minute', folded: false },
  { table: 'violations', time: 'last_seen', folded: true },
  { table: 'ingest_usage', time: 'time', folded: false },
  { table: 'resource_minutes', time: 'minute', folded: true },
];

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

/** Fingerprints (`rows:checksum`) of every tenant table for each of `tenants`: the isolation check before and after a restore or erase. */
export async function tenantFingerprints(store: Store, tenants: readonly string[]): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = Object.fromEntries(tenants.map((t) => [t, {}]));
  for (const t of TENANT_TABLES) {
    const cols = await storedColumns(store, t.table);
    const source = t.folded ? `(SELECT * FROM ${t.table} FINAL WHERE tenant_id IN {tenants:Array(String)})` : t.table;
    const rows = await store.query<{ tenant_id: string; rows: string; x: string; s: string }>(
      `SELECT tenant_id, count() AS rows, lower(hex(groupBitXor(h))) AS x, lower(hex(sum(h))) AS s
         FROM (SELECT tenant_id, ${rowHash(cols)} AS h FROM ${source} WHERE tenant_id IN {tenants:Array(String)})
        GROUP BY tenant_id`,
      { tenants: [...tenants] },
    );
    for (const tenant of tenants) out[tenant]![t.table] = '0:0000000000000000-0000000000000000';
    for (const r of rows) out[r.tenant_id]![t.table] = `${Number(r.rows)}:${pad16(r.x)}-${pad16(r.s)}`;
  }
  return out;
}

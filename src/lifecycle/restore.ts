// Restore one tenant from an export bundle, or rehearse it (a drill). Nothing is stored until
// the bundle passed every check (bundle.ts), the tenant is known here and every file's columns
// are this store's. Each file is inserted with only the rows the tenant does not have yet
// (matched by the row hash of tables.ts), so restoring a bundle twice stores nothing twice and
// a restore cut short can be run again. Afterwards the tenant's fingerprint of each table in
// the bundle's period must equal the manifest's, and every other tenant's must be as before.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Registry } from '../config/index.js';
import type { AuditEventInput } from '../ingest/audit/types.js';
import { verifyChain } from '../ingest/audit/chain.js';
import { tsError } from '../errors.js';
import { quoteString, type Store } from '../store/types.js';
import { checkBundle, type CheckedBundle, type ManifestFile } from './bundle.js';
import { BUNDLED_TABLES, dropScratch, fingerprint, ident, isState, isolationChanges, isolationSnapshot, rowHash, storedColumns, tableAt, tenantRows, type IsolationSnapshot, type Period, type TableSite } from './tables.js';

/** Writes an event into a tenant's audit chain; resolves once durable. */
export type AuditRecorder = (tenantId: string, event: AuditEventInput) => Promise<unknown>;

export interface RestoreOptions {
  registry: Registry;
  /** The public key (PEM) the bundle must be signed by: this store's evidence key, or the one the operator trusts. */
  trustedKey: string;
  /** Who restores (a token's name, or `cli:<user>`), for the audit event. */
  actor: string;
  audit: AuditRecorder;
  /** Rehearse in a scratch database, compare, drop it; the store's tables are not touched. */
  verifyOnly?: boolean;
}

/** One table's restore. */
export interface TableRestore {
  table: string;
  /** Rows of the tenant in the bundle's period: in the bundle, here before, here after. */
  bundle_rows: number;
  rows_before: number;
  rows_after: number;
  /** The tenant's fingerprint here equals the manifest's. */
  matches: boolean;
}

/** What a restore (or drill) did and found. */
export interface RestoreReport {
  tenant: string;
  mode: 'restore' | 'drill';
  outcome: 'success' | 'failure';
  manifest_sha256: string;
  exported_at: string;
  tables: TableRestore[];
  /** Rows checked against the manifest. */
  verified_records: number;
  /**
   * Every other tenant's rows received before the restore began are as they were (always true
   * for a drill, which writes only to scratch); rows their ingest adds meanwhile do not count.
   */
  others_unchanged: boolean;
  /** What changed of other tenants, when something did. */
  other_tenant_changes?: string[];
  /** `audit verify` of the tenant after the restore (not run for a drill). */
  audit_chain?: string;
  duration_seconds: number;
}

/** Check a bundle against the key a restore trusts; throws TS_ERR_BUNDLE naming what differs. */
export async function checkedBundle(dir: string, trustedKey: string | undefined): Promise<CheckedBundle> {
  const b = await checkBundle(dir, trustedKey);
  if ('problem' in b) throw tsError('TS_ERR_BUNDLE', [dir, b.problem], { bundle: dir });
  return b;
}

/** Restore (or, with verifyOnly, rehearse the restore of) the bundle in `dir`. */
export async function restoreTenant(store: Store, dir: string, o: RestoreOptions): Promise<RestoreReport> {
  const started = Date.now();
  const b = await checkedBundle(dir, o.trustedKey);
  const m = b.manifest;
  const tenant = o.registry.tenant(m.tenant);
  if (!tenant) throw tsError('TS_ERR_BUNDLE', [dir, `tenant ${m.tenant} is not in this registry; add it before restoring its data`], { bundle: dir });
  const period: Period = { ...(m.period.from ? { fromMs: Date.parse(m.period.from) } : {}), toMs: Date.parse(m.period.to) };
  for (const f of m.files) await checkColumns(store, f, dir);

  let site: TableSite = {};
  let before: IsolationSnapshot | undefined;
  const others = o.registry.tenants().map((t) => t.id).filter((id) => id !== m.tenant);
  if (o.verifyOnly) site = { database: `tenantscope_drill_${randomBytes(6).toString('hex')}` };
  else before = await isolationSnapshot(store, others, started);
  const tables: TableRestore[] = [];
  try {
    if (site.database) await createScratch(store, site.database);
    for (const f of m.files) tables.push(await restoreFile(store, b, f, period, site));
  } catch (e) {
    if (before) await dropScratch(store, before.scratch);
    throw e;
  } finally {
    if (site.database) await store.exec(`DROP DATABASE IF EXISTS ${ident(site.database)} SYNC`);
  }
  const changes = before ? await isolationChanges(store, before) : [];
  const othersUnchanged = changes.length === 0;
  const ok = tables.every((t) => t.matches) && othersUnchanged;
  const report: RestoreReport = {
    tenant: m.tenant,
    mode: o.verifyOnly ? 'drill' : 'restore',
    outcome: ok ? 'success' : 'failure',
    manifest_sha256: b.manifestSha256,
    exported_at: m.created_at,
    tables,
    verified_records: tables.reduce((n, t) => n + (t.matches ? t.bundle_rows : 0), 0),
    others_unchanged: othersUnchanged,
    ...(changes.length > 0 ? { other_tenant_changes: changes.slice(0, 20) } : {}),
    duration_seconds: (Date.now() - started) / 1000,
  };
  // The restore, or the drill, is itself evidence in the tenant's chain.
  await o.audit(m.tenant, {
    time: new Date().toISOString(),
    actor: { id: o.actor, type: 'user' },
    action: o.verifyOnly ? 'restore.tested' : 'tenant.restored',
    target: { type: 'tenant', id: m.tenant, tenant_id: m.tenant },
    outcome: ok ? 'success' : 'failure',
    attributes: {
      component: 'database',
      scope: 'tenant',
      'bundle.manifest_sha256': b.manifestSha256,
      'bundle.exported_at': m.created_at,
      duration_seconds: report.duration_seconds.toFixed(3),
      verified_records: String(report.verified_records),
      outcome: ok ? 'success' : 'failure',
    },
  });
  if (!o.verifyOnly) report.audit_chain = (await verifyChain(store, m.tenant)).status;
  return report;
}

// A file whose columns are not this store's (another schema level) is refused before any insert.
async function checkColumns(store: Store, f: ManifestFile, dir: string): Promise<void> {
  const t = BUNDLED_TABLES.find((x) => x.table === f.table);
  if (!t) throw tsError('TS_ERR_BUNDLE', [dir, `${f.file} is for table ${f.table}, which holds no tenant data here`], { bundle: dir });
  const here = await storedColumns(store, t.table);
  const want = f.columns.map((c) => `${c.name} ${c.type}`).join(', ');
  const have = here.map((c) => `${c.name} ${c.type}`).join(', ');
  if (want !== have) throw tsError('TS_ERR_BUNDLE', [dir, `${f.file} has the columns (${want}) but ${f.table} here has (${have}); restore into a store at the bundle's schema level`], { bundle: dir });
}

// Plain copies of every tenant table: rows arrive folded from the bundle, and nothing expires
// (no TTL) while the drill runs.
async function createScratch(store: Store, database: string): Promise<void> {
  await store.exec(`CREATE DATABASE ${ident(database)}`);
  for (const t of BUNDLED_TABLES) await store.exec(`CREATE TABLE ${tableAt(t, { database })} AS ${t.table} ENGINE = MergeTree ORDER BY tuple()`);
}

async function restoreFile(store: Store, b: CheckedBundle, f: ManifestFile, period: Period, site: TableSite): Promise<TableRestore> {
  const t = BUNDLED_TABLES.find((x) => x.table === f.table)!;
  const tenant = b.manifest.tenant;
  const rowsBefore = (await fingerprint(store, t, tenant, period, f.columns, site)).rows;
  if (f.rows > 0) {
    // Only rows of the bundle's period can match a bundle row (the hash covers the time
    // column), and with none there, nothing needs matching at all.
    const names = f.columns.map((c) => ident(c.name)).join(', ');
    const structure = f.columns.map((c) => `${ident(c.name)} ${isState(c.type) ? 'String' : c.type}`).join(', ');
    const casts = f.columns.map((c) => (isState(c.type) ? `CAST(${ident(c.name)}, ${quoteString(c.type)}) AS ${ident(c.name)}` : ident(c.name))).join(', ');
    const have = tenantRows(t, period, site);
    const notPresent = rowsBefore === 0 ? '' : `AND ${rowHash(f.columns)} NOT IN (SELECT ${rowHash(f.columns)} FROM ${have.source} WHERE ${have.where})`;
    // Deduplication by block content is off: a second restore after an erase sends the same
    // blocks again, and they must be stored again.
    await store.insertFromFile(
      (source) =>
        `INSERT INTO ${tableAt(t, site)} (${names})
         SELECT ${names} FROM (SELECT ${casts} FROM ${source})
          WHERE tenant_id = {tenant:String} ${notPresent}
         SETTINGS insert_deduplicate = 0`,
      { path: join(b.dir, f.file), format: 'Parquet', structure },
      have.params(tenant),
    );
  }
  const after = await fingerprint(store, t, tenant, period, f.columns, site);
  return { table: f.table, bundle_rows: f.rows, rows_before: rowsBefore, rows_after: after.rows, matches: after.rows === f.rows && after.checksum === f.checksum };
}

// Export one tenant: a bundle directory (bundle.ts) written from the store, table by table,
// with only that tenant's rows, and signed. Parquet because a customer reads it with their own
// tools (DuckDB, pandas, ClickHouse) and the engine writes and reads it natively.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/types.js';
import { tsError } from '../errors.js';
import { VERSION } from '../version.js';
import { verifyChain } from '../ingest/audit/chain.js';
import { signDetached, type EvidenceSigner } from '../reports/evidence-sign.js';
import { BUNDLE_FORMAT, MANIFEST_FILE, SIGNATURE_FILE, fileSha256, manifestJson, type ExportManifest, type ManifestFile } from './bundle.js';
import { BUNDLED_TABLES, fingerprint, ident, isState, storedColumns, tenantRows, type Period } from './tables.js';

export interface ExportOptions {
  tenant: string;
  period: Period;
  /** A directory that does not exist yet or is empty. */
  outDir: string;
  signer: EvidenceSigner;
  /** The latest signed checkpoint of the audit chains, when there is one. */
  checkpoint?: unknown;
  /** When the export runs (ms); the period's end when none is given. Default: now. */
  nowMs?: number;
}

/** Write `tenant`'s bundle into `outDir`; returns its manifest. */
export async function exportTenant(store: Store, o: ExportOptions): Promise<ExportManifest> {
  mkdirSync(o.outDir, { recursive: true });
  if (readdirSync(o.outDir).length > 0) throw tsError('TS_ERR_BUNDLE', [o.outDir, 'the output directory is not empty; give a new or empty one']);
  const now = o.nowMs ?? Date.now();
  // An open end is closed at the export's time, so rows arriving while it runs are not
  // half in the files and half out of the fingerprints.
  const period: Period = { ...(o.period.fromMs !== undefined ? { fromMs: o.period.fromMs } : {}), toMs: o.period.toMs ?? now };
  const files: ManifestFile[] = [];
  for (const t of BUNDLED_TABLES) {
    const columns = await storedColumns(store, t.table);
    const r = tenantRows(t, period);
    const select = columns.map((c) => (isState(c.type) ? `CAST(${ident(c.name)}, 'String') AS ${ident(c.name)}` : ident(c.name))).join(', ');
    const file = `${t.table}.parquet`;
    const path = join(o.outDir, file);
    // In the table's own order (no ORDER BY): sorting a million spans by time took two thirds
    // of an export, and a reader sorts as it needs.
    const bytes = await store.queryToFile(`SELECT ${select} FROM ${r.source} WHERE ${r.where}`, r.params(o.tenant), 'Parquet', path);
    const fp = await fingerprint(store, t, o.tenant, period, columns);
    files.push({ file, table: t.table, columns, ...fp, bytes, sha256: await fileSha256(path) });
  }
  const chain = await verifyChain(store, o.tenant);
  const [mig] = await store.query<{ v: string }>('SELECT toString(max(version)) AS v FROM schema_migrations');
  const manifest: ExportManifest = {
    format: BUNDLE_FORMAT,
    tenant: o.tenant,
    period: { from: period.fromMs !== undefined ? new Date(period.fromMs).toISOString() : null, to: new Date(period.toMs!).toISOString() },
    created_at: new Date(now).toISOString(),
    tenantscope_version: VERSION,
    schema_migration: Number(mig?.v ?? 0),
    files,
    audit_chain: { status: chain.status, events: chain.events, segments: chain.segments, checkpoint: o.checkpoint ?? null },
  };
  writeFileSync(join(o.outDir, MANIFEST_FILE), manifestJson(manifest));
  writeFileSync(join(o.outDir, SIGNATURE_FILE), `${JSON.stringify(signDetached(o.signer, JSON.parse(JSON.stringify(manifest)) as object), null, 2)}\n`);
  return manifest;
}

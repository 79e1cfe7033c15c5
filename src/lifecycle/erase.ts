// Erase one tenant (offboarding): every row of it in every table, after what the write-ahead
// log still held was stored (the caller drains it first, so a replay cannot bring rows back).
// Refused under a legal hold. Proven, not assumed: rows are counted before, counted again after
// (must be 0), and every other tenant's fingerprints must be unchanged. The signed certificate
// goes to the platform audit chain, since the tenant's own chain is erased with it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../config/index.js';
import { tsError } from '../errors.js';
import type { Store } from '../store/types.js';
import { signDetached, type DetachedSignature, type EvidenceSigner } from '../reports/evidence-sign.js';
import type { AuditRecorder } from './restore.js';
import { TENANT_TABLES, dropScratch, fingerprint, isolationChanges, isolationSnapshot } from './tables.js';
import { ERASED_ACTION, PLATFORM_CHAIN } from '../ingest/audit/chain.js';

export { PLATFORM_CHAIN };

export interface EraseOptions {
  registry: Registry;
  tenant: string;
  /** Must repeat the tenant id. */
  confirm: string;
  /** Who erases (a token's name, or `cli:<user>`). */
  operator: string;
  signer: EvidenceSigner;
  /** SHA-256 of the manifest of an export taken before, if any (the customer's copy). */
  exportManifestSha256?: string;
  /** A ClickHouse cluster: rows are deleted from every node's local tables. */
  cluster?: string;
  /** Writes the certificate's event into the platform chain. */
  platformAudit: AuditRecorder;
  /** Where the certificate file is written (`<data-dir>/erasures`). */
  certificateDir: string;
}

/** What an erasure did, signed. */
export interface ErasureCertificate {
  kind: 'tenantscope-erasure/1';
  tenant: string;
  erased_at: string;
  operator: string;
  tables: { table: string; rows_before: number; rows_after: number }[];
  /** Every other tenant's rows received before the erasure began were as before afterwards (tables.ts). */
  others_unchanged: boolean;
  export_manifest_sha256: string | null;
}

export interface SignedErasure {
  certificate: ErasureCertificate;
  signature: DetachedSignature;
  /** Where the certificate was written. */
  file: string;
}

/** Erase `tenant` from the store; returns the signed certificate. */
export async function eraseTenant(store: Store, o: EraseOptions): Promise<SignedErasure> {
  const tenant = o.registry.tenant(o.tenant);
  if (!tenant) throw tsError('TS_ERR_TENANT_NOT_FOUND', [o.tenant]);
  if (o.confirm !== o.tenant) throw tsError('TS_ERR_CONFIRM', [o.tenant, o.tenant]);
  if (tenant.legalHold) throw tsError('TS_ERR_LEGAL_HOLD', [o.tenant, 'legal_hold is set in the registry; lift it there first'], { tenant: o.tenant });
  const others = o.registry.tenants().map((t) => t.id).filter((id) => id !== o.tenant);
  const startedMs = Date.now();
  const before = await isolationSnapshot(store, others, startedMs);
  const tables: ErasureCertificate['tables'] = [];
  try {
    for (const t of TENANT_TABLES) {
      const rowsBefore = (await fingerprint(store, t, o.tenant)).rows;
      if (rowsBefore > 0) {
        // Synchronous: the count after must see the rows gone, not a mutation still queued.
        const target = o.cluster ? `${t.table}_local ON CLUSTER ${o.cluster.replace(/[^A-Za-z0-9_]/g, '')}` : t.table;
        await store.exec(`ALTER TABLE ${target} DELETE WHERE tenant_id = {tenant:String} SETTINGS mutations_sync = 2`, { tenant: o.tenant });
      }
      tables.push({ table: t.table, rows_before: rowsBefore, rows_after: (await fingerprint(store, t, o.tenant)).rows });
    }
  } catch (e) {
    await dropScratch(store, before.scratch);
    throw e;
  }
  const changes = await isolationChanges(store, before);
  const certificate: ErasureCertificate = {
    kind: 'tenantscope-erasure/1',
    tenant: o.tenant,
    erased_at: new Date().toISOString(),
    operator: o.operator,
    tables,
    others_unchanged: changes.length === 0,
    export_manifest_sha256: o.exportManifestSha256 ?? null,
  };
  const signature = signDetached(o.signer, certificate);
  mkdirSync(o.certificateDir, { recursive: true });
  const file = join(o.certificateDir, `${o.tenant}-${certificate.erased_at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ certificate, signature }, null, 2)}\n`);
  const left = tables.filter((t) => t.rows_after > 0);
  await o.platformAudit(PLATFORM_CHAIN, {
    time: certificate.erased_at,
    actor: { id: o.operator, type: 'user' },
    action: ERASED_ACTION,
    target: { type: 'tenant', id: o.tenant },
    outcome: left.length === 0 && certificate.others_unchanged ? 'success' : 'failure',
    attributes: {
      'erasure.rows_before': String(tables.reduce((n, t) => n + t.rows_before, 0)),
      'erasure.rows_after': String(tables.reduce((n, t) => n + t.rows_after, 0)),
      'erasure.others_unchanged': String(certificate.others_unchanged),
      'erasure.signature': signature.value,
      'erasure.key_id': signature.key_id,
      ...(o.exportManifestSha256 ? { 'export.manifest_sha256': o.exportManifestSha256 } : {}),
    },
  });
  if (left.length > 0) throw tsError('TS_ERR_STORE', [`erasing ${o.tenant} left rows in ${left.map((t) => `${t.table} (${t.rows_after})`).join(', ')}; certificate ${file} records it`]);
  return { certificate, signature, file };
}

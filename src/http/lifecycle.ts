// Tenant lifecycle routes, admin only: a tenant's export bundle as a tar stream, and its
// erasure. Both first store what ingest still holds for the tenant (the writer settles), so
// the bundle has every acknowledged row and an erase leaves nothing behind to be stored later.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../config/index.js';
import type { Store } from '../store/types.js';
import type { EvidenceSigner } from '../reports/evidence-sign.js';
import { parseTimeParam } from '../reports/window.js';
import { tsError } from '../errors.js';
import { exportTenant } from '../lifecycle/export.js';
import { PLATFORM_CHAIN, eraseTenant } from '../lifecycle/erase.js';
import { verifyChain } from '../ingest/audit/chain.js';
import { tenantCheckpoint, type CheckpointReading } from '../ingest/audit/checkpoint.js';
import { packBundle } from '../lifecycle/tarball.js';
import type { AuditRecorder } from '../lifecycle/restore.js';
import { principalOf } from './access.js';

export interface LifecycleApiOptions {
  signer: EvidenceSigner;
  /** Writes into a tenant's chain, as `tokenName`. */
  audit: (tenant: string, event: Parameters<AuditRecorder>[1], tokenName: string) => Promise<unknown>;
  /** Writes into the platform chain, as `tokenName`. */
  platformAudit: (chain: string, event: Parameters<AuditRecorder>[1], tokenName: string) => Promise<unknown>;
  /** Stores everything ingest has acknowledged. */
  settle: () => Promise<void>;
  /** Told of an erased tenant (its chain head must be read again). */
  erased: (tenant: string) => void;
  /** The signed checkpoints on disk; a bundle carries the tenant's part of the latest. */
  checkpoints: () => CheckpointReading;
  /** The server's data directory (scratch space for bundles, erasure certificates). */
  dataDir: string;
  cluster?: string;
}

const ADMIN_TENANT = { scope: 'tenant', kinds: ['admin'] } as const;

/** Register the export and erase routes. */
export function registerLifecycleRoutes(app: FastifyInstance, registry: Registry, store: Store, o: LifecycleApiOptions): void {
  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/export', { config: { access: ADMIN_TENANT } }, async (req, reply) => {
    const fromMs = parseTimeParam('from', req.query.from);
    const toMs = parseTimeParam('to', req.query.to);
    await o.settle();
    const dir = mkdtempSync(join(o.dataDir, 'tmp-export-'));
    try {
      const manifest = await exportTenant(store, { tenant: req.params.id, period: { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) }, outDir: dir, signer: o.signer, checkpoint: tenantCheckpoint(o.checkpoints(), req.params.id) });
      const p = principalOf(req);
      await o.audit(req.params.id, {
        time: new Date().toISOString(),
        actor: { id: p.name, type: 'user' },
        action: 'tenant.exported',
        target: { type: 'tenant', id: req.params.id, tenant_id: req.params.id },
        outcome: 'success',
        attributes: { 'export.rows': String(manifest.files.reduce((n, f) => n + f.rows, 0)), 'export.period_to': manifest.period.to },
      }, p.name);
      const tarStream = packBundle(dir);
      tarStream.on('close', () => rmSync(dir, { recursive: true, force: true }));
      tarStream.on('error', () => rmSync(dir, { recursive: true, force: true }));
      return reply.type('application/x-tar').header('content-disposition', `attachment; filename="${req.params.id}-export.tar"`).send(tarStream);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  });

  // The platform chain holds erasure certificates: ids and counts of every erased tenant.
  app.get('/api/v1/audit/platform/verify', { config: { access: { scope: 'platform', kinds: ['admin'] }, readAudit: false } }, async () => verifyChain(store, PLATFORM_CHAIN));

  // The erased tenant's chain is gone with it: the route writes its certificate into the
  // platform chain instead of a read event into the tenant's.
  app.post<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/erase', { config: { access: ADMIN_TENANT, readAudit: false } }, async (req) => {
    const confirm = typeof req.query.confirm === 'string' ? req.query.confirm : '';
    const sha = req.query.export_manifest_sha256;
    if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha))) throw tsError('TS_ERR_BAD_QUERY', ['export_manifest_sha256', 'expected 64 lowercase hex digits']);
    await o.settle();
    const p = principalOf(req);
    try {
      return await eraseTenant(store, {
        registry,
        tenant: req.params.id,
        confirm,
        operator: p.name,
        signer: o.signer,
        ...(sha ? { exportManifestSha256: sha } : {}),
        ...(o.cluster ? { cluster: o.cluster } : {}),
        platformAudit: (chain, event) => o.platformAudit(chain, event, p.name),
        certificateDir: join(o.dataDir, 'erasures'),
      });
    } finally {
      o.erased(req.params.id);
    }
  });
}

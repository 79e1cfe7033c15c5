// Evidence routes: a tenant's signed evidence report (JSON or the page), and the public key
// that verifies it. The report is scoped like every tenant route (access.ts); neighbours and
// other tenants' tokens are anonymised for anyone but an admin.
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../config/index.js';
import type { Store } from '../store/types.js';
import { tsError } from '../errors.js';
import { parseTimeParam } from '../reports/window.js';
import { evidenceReport, type EvidenceRuntime } from '../reports/evidence.js';
import type { EvidenceSigner } from '../reports/evidence-sign.js';
import { evidenceFile } from '../reports/evidence-file.js';
import type { CheckpointReading } from '../ingest/audit/checkpoint.js';
import type { RecoveryJudge } from '../reports/recovery.js';
import { principalOf } from './access.js';

/** What the evidence routes need beyond the store and registry. */
export interface EvidenceApiOptions {
  signer: EvidenceSigner;
  /** Server settings the controls are judged on. */
  runtime: EvidenceRuntime;
  /** The latest audit chain checkpoints (the report holds the tenant's part); absent: none are looked for. */
  checkpoints?: () => CheckpointReading;
}

/** GET /api/v1/evidence/public-key */
export interface EvidencePublicKey {
  algorithm: 'Ed25519';
  key_id: string;
  public_key: string;
}

/**
 * Register the evidence routes; without `evidence` they answer 404 (signing not configured).
 * `recoveryJudge` is the API's, so the recoverability section and the recovery route agree.
 */
export function registerEvidenceRoutes(app: FastifyInstance, registry: Registry, store: Store, evidence: EvidenceApiOptions | undefined, recoveryJudge: RecoveryJudge): void {
  const configured = (url: string) => {
    if (!evidence) throw tsError('TS_ERR_NOT_FOUND', ['GET', `${url} (evidence signing is not configured)`]);
    return evidence;
  };

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(
    '/api/v1/tenants/:id/evidence',
    { config: { access: { scope: 'tenant', kinds: ['read', 'auditor', 'admin'] } } },
    async (req, reply) => {
      const format = choice(req.query.format, 'format', ['json', 'html'] as const, 'json');
      const window = { fromMs: parseTimeParam('from', req.query.from), toMs: parseTimeParam('to', req.query.to) };
      const { signer, runtime, checkpoints } = configured('/api/v1/tenants/:id/evidence');
      const p = principalOf(req);
      const report = await evidenceReport(store, registry, req.params.id, window, {
        requestedBy: { name: p.name, kind: p.kind },
        anonymise: p.kind !== 'admin',
        runtime,
        signingKeyId: signer.keyId,
        checkpoints: checkpoints?.(),
        recoveryJudge,
      });
      const file = await evidenceFile(signer.sign(report), format);
      return reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).send(file.body);
    },
  );

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/evidence/public-key', { config: { access: { scope: 'public' } } }, async (req, reply) => {
    const format = choice(req.query.format, 'format', ['json', 'pem'] as const, 'json');
    const { signer } = configured('/api/v1/evidence/public-key');
    if (format === 'pem') return reply.type('application/x-pem-file').header('x-tenantscope-key-id', signer.keyId).send(signer.publicKeyPem);
    const body: EvidencePublicKey = { algorithm: 'Ed25519', key_id: signer.keyId, public_key: signer.publicKeyPem };
    return body;
  });
}

/** A query value from a fixed list, or its default when absent. */
function choice<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw tsError('TS_ERR_BAD_QUERY', [name, `expected one of ${allowed.join(', ')}`]);
  return value as T;
}

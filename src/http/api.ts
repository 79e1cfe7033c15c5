// The API server: health and per-tenant reads. Every route declares its access rule and one
// hook enforces it (access.ts), so scope is decided in one place for all routes.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from '../config/index.js';
import type { Store } from '../store/types.js';
import { usageReport } from '../reports/usage.js';
import { sloReport } from '../reports/slo.js';
import { noisyNeighborReport, type NoisyOptions } from '../reports/noisy.js';
import { costCsv, costReport, type CostReport } from '../reports/cost.js';
import { parseTimeParam } from '../reports/window.js';
import { platformRecovery, recoveryReport, type RecoveryJudge } from '../reports/recovery.js';
import { incidentsReport, tenantIncidents } from '../reports/incidents.js';
import { standaloneRecoveryJudge } from '../policy/recovery-judge.js';
import { withoutForeignNames } from '../reports/foreign-names.js';
import { verifyChain } from '../ingest/audit/chain.js';
import { verifyWithCheckpoint, type CheckpointReading } from '../ingest/audit/checkpoint.js';
import { isTenantscopeError, tsError, type TenantscopeError } from '../errors.js';
import { enforceAccess, principalOf, type DeclaredRoute } from './access.js';
import { recordReads, type ReadRecorder } from './read-audit.js';
import type { Logger } from '../log.js';
import { listViolations, type ViolationQuery } from '../policy/violations.js';
import type { PolicyService } from '../policy/service.js';
import type { TenantscopeMetrics } from '../telemetry/metrics.js';
import { registerMetricsRoute } from './metrics.js';
import { registerUiRoutes } from './ui.js';
import { registerEvidenceRoutes, type EvidenceApiOptions } from './evidence.js';
import { registerLifecycleRoutes, type LifecycleApiOptions } from './lifecycle.js';

export interface ApiOptions {
  registry: Registry;
  store: Store;
  log: Logger;
  /** Absent when policies are off. */
  policies?: PolicyService;
  /** Served as GET /metrics; absent: no metrics route. */
  metrics?: TenantscopeMetrics;
  /** Writes reads of tenant data to the tenant's audit chain; absent: reads are not recorded. */
  recordRead?: ReadRecorder;
  /** The evidence signer and the server settings evidence reports on; absent: evidence routes answer 404. */
  evidence?: EvidenceApiOptions;
  /** Export and erase of tenants; absent: those routes are not served. */
  lifecycle?: LifecycleApiOptions;
  /** Stores what ingest deferred (usage rows, rollup sums), so a read sees every acknowledged request; called before each read of tenant data. */
  settle?: () => Promise<void>;
  /** The latest audit chain checkpoints, read when a chain is verified; absent: verification without checkpoints. */
  checkpoints?: () => CheckpointReading;
}

/** Error body of every API route: stable code, status and message. */
export interface ApiErrorBody {
  error: { code: string; status: number; message: string };
}

function sendError(reply: FastifyReply, err: TenantscopeError): FastifyReply {
  const body: ApiErrorBody = { error: { code: err.code, status: err.status, message: err.message } };
  return reply.code(err.status).type('application/json').send(body);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the API app with its access rule (the access-matrix test walks them). */
    declaredRoutes: DeclaredRoute[];
  }
}

/** GET /api/v1/tenants: the caller and the tenants it may read. */
export interface TenantList {
  caller: { name: string; kind: string };
  tenants: { id: string; name: string; tier: string; region: string }[];
}

/** Build the API app (not yet listening). */
export function buildApiApp(opts: ApiOptions): FastifyInstance {
  const { registry, store, log, policies, metrics, recordRead } = opts;
  const app = Fastify({ logger: false, return503OnClosing: true });

  app.setErrorHandler((error, _req, reply) => {
    if (isTenantscopeError(error)) return sendError(reply, error);
    const fe = error as { statusCode?: number; message: string };
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return sendError(reply, tsError('TS_ERR_BAD_QUERY', ['request', fe.message]));
    log.error({ err: fe.message }, 'unexpected error in API');
    return sendError(reply, tsError('TS_ERR_INTERNAL', [fe.message]));
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, tsError('TS_ERR_NOT_FOUND', [req.method, req.url.split('?')[0]!.slice(0, 200)])));

  const routes = enforceAccess(app, registry);
  app.decorate('declaredRoutes', routes);
  const settle = opts.settle;
  if (settle) {
    // After access is decided (a refused caller costs no insert), before the route reads.
    app.addHook('preHandler', async (req) => {
      const scope = req.routeOptions.config.access?.scope;
      if (scope === 'tenant' || scope === 'platform') await settle();
    });
  }
  if (recordRead) recordReads(app, registry, recordRead, log);
  if (metrics) registerMetricsRoute(app, registry, metrics);
  registerUiRoutes(app);
  // Findings come from the running policy set, or the shipped policies when policies are off.
  const judge: RecoveryJudge = policies ? (input) => policies.judgeRecovery(input) : standaloneRecoveryJudge(registry);
  registerEvidenceRoutes(app, registry, store, opts.evidence, judge);
  if (opts.lifecycle) registerLifecycleRoutes(app, registry, store, opts.lifecycle);

  app.get('/healthz', { config: { access: { scope: 'public' } } }, async () => {
    await store.query('SELECT 1 AS ok');
    return { status: 'ok', store: store.kind, tenants: registry.tenants().length };
  });

  // The tenants the caller may read, and who the caller is (the UI signs in with this).
  app.get('/api/v1/tenants', { config: { access: { scope: 'caller', kinds: READERS } } }, async (req): Promise<TenantList> => {
    const p = principalOf(req);
    const tenants = registry.tenants().filter((t) => p.tenants === 'all' || registry.canRead(p, t.id));
    return { caller: { name: p.name, kind: p.kind }, tenants: tenants.map((t) => ({ id: t.id, name: t.name, tier: t.tier, region: t.region })) };
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/usage', { config: { access: { scope: 'tenant', kinds: ['read', 'admin'] } } }, async (req) => {
    return usageReport(store, req.params.id, windowQuery(req.query));
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/slo', TENANT_READ, async (req) => {
    return sloReport(store, registry.tenant(req.params.id)!, windowQuery(req.query));
  });

  // Which neighbours slowed this tenant down, named only for an admin.
  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/noisy-neighbors', TENANT_READ, async (req) => {
    return noisyNeighborReport(store, { ...noisyQuery(req.query), tenant: req.params.id, anonymise: principalOf(req).kind !== 'admin' });
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/noisy-neighbors', PLATFORM, async (req) => {
    return noisyNeighborReport(store, noisyQuery(req.query));
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/cost', TENANT_READ, async (req, reply) => {
    const csv = formatQuery(req.query);
    return sendCost(reply, await costReport(store, registry, { ...windowQuery(req.query), tenant: req.params.id }), csv);
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/recovery', TENANT_READ, async (req) => {
    return recoveryReport(store, registry.tenant(req.params.id)!, windowQuery(req.query), judge);
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/recovery', PLATFORM, async (req) => {
    return platformRecovery(store, registry, windowQuery(req.query), judge);
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/incidents', PLATFORM, async (req) => {
    return incidentsReport(store, registry, windowQuery(req.query));
  });

  // The tenant's own impact only: the incident is computed over every tenant (its scope needs them), then cut to this one.
  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/incidents', TENANT_READ, async (req) => {
    return tenantIncidents(await incidentsReport(store, registry, windowQuery(req.query)), req.params.id);
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/cost', PLATFORM, async (req, reply) => {
    const csv = formatQuery(req.query);
    return sendCost(reply, await costReport(store, registry, windowQuery(req.query)), csv);
  });

  // Only the tenant's own part of the checkpoint is answered: a checkpoint holds every tenant's heads.
  app.get<{ Params: { id: string } }>('/api/v1/tenants/:id/audit/verify', TENANT_READ, async (req) => {
    return opts.checkpoints ? verifyWithCheckpoint(store, req.params.id, opts.checkpoints()) : verifyChain(store, req.params.id);
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/v1/tenants/:id/violations', TENANT_READ, async (req) => {
    const violations = await listViolations(store, { ...violationQuery(req.query), tenant: req.params.id });
    const answer = { tenant: req.params.id, violations };
    return principalOf(req).kind === 'admin' ? answer : withoutForeignNames(answer, registry, req.params.id);
  });

  // Every tenant's violations and the platform's own (tenant ""), for operators.
  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/violations', PLATFORM, async (req) => {
    return { violations: await listViolations(store, violationQuery(req.query)) };
  });

  app.get('/api/v1/policies', PLATFORM, async () => {
    if (!policies) throw tsError('TS_ERR_NOT_FOUND', ['GET', '/api/v1/policies (policies are switched off)']);
    return policies.status();
  });

  return app;
}

/** Tenant routes: a read token for its tenant, an auditor for its listed tenants, an admin. */
const READERS = ['read', 'auditor', 'admin'] as const;
const TENANT_READ = { config: { access: { scope: 'tenant', kinds: READERS } } } as const;
/** Cross-tenant routes: admins only. */
const PLATFORM = { config: { access: { scope: 'platform', kinds: ['admin'] } } } as const;

const STATUSES = ['open', 'resolved', 'all'] as const;

function violationQuery(q: Record<string, unknown>): ViolationQuery {
  const status = q.status ?? 'open';
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw tsError('TS_ERR_BAD_QUERY', ['status', `expected one of ${STATUSES.join(', ')}`]);
  }
  let limit: number | undefined;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (typeof q.limit !== 'string' || !Number.isInteger(limit) || limit < 1 || limit > 100_000) throw tsError('TS_ERR_BAD_QUERY', ['limit', 'expected an integer from 1 to 100000']);
  }
  return { status: status as ViolationQuery['status'], limit, ...windowQuery(q) };
}

/** `format=json` (default) or `format=csv`; true for CSV. */
function formatQuery(q: Record<string, unknown>): boolean {
  const format = q.format ?? 'json';
  if (format !== 'json' && format !== 'csv') throw tsError('TS_ERR_BAD_QUERY', ['format', 'expected json or csv']);
  return format === 'csv';
}

function sendCost(reply: FastifyReply, report: CostReport, csv: boolean): FastifyReply | CostReport {
  if (!csv) return report;
  return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="cost.csv"').send(costCsv(report));
}

/** Window and optional `min_score` of a noisy-neighbour query. */
function noisyQuery(q: Record<string, unknown>): NoisyOptions {
  const opts: NoisyOptions = windowQuery(q);
  if (q.min_score !== undefined) {
    const minScore = Number(q.min_score);
    if (typeof q.min_score !== 'string' || q.min_score.trim() === '' || !Number.isFinite(minScore) || minScore < 0) throw tsError('TS_ERR_BAD_QUERY', ['min_score', 'expected a number >= 0']);
    opts.thresholds = { minScore };
  }
  return opts;
}

/** `from` and `to` of a report query, checked. */
function windowQuery(q: Record<string, unknown>): { fromMs?: number; toMs?: number } {
  const fromMs = parseTimeParam('from', q.from);
  const toMs = parseTimeParam('to', q.to);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw tsError('TS_ERR_BAD_QUERY', ['from', 'must be before to']);
  return { fromMs, toMs };
}

// The workload simulator's public surface: run a scenario of the demo platform against a
// tenantscope (or any OTLP/HTTP endpoint) and report what was sent, so tests, the demo and
// benchmarks can check the reports against known truths. Simulated time: the period (a day by
// default) is compressed into `durationSec` real seconds, minute by minute. Every scenario also
// reports the platform's backups and restore tests (recovery.ts) as simulated time reaches them.
import { loadRegistry, type Registry, type TenantRecord } from '../config/index.js';
import type { RecoveryAction } from '../ingest/recovery/vocabulary.js';
import { fromRoot } from '../paths.js';
import { AuditSender } from './audit.js';
import { failureApplies, MINUTE_MS, WorkloadModel, type RequestPlan, type ResourceLoad, type TenantInfo } from './model.js';
import { SeededIdGenerator, Rng } from './rng.js';
import { describeDrift, planRecovery, PLATFORM, RecoveryFeed, type RecoveryDriftSummary } from './recovery.js';
import { DEFAULT_WORKLOAD, loadWorkload, SCENARIO_NAMES, type ScenarioName, type Workload } from './scenarios.js';
import { emptyCounts, TenantTelemetry, type ExportCounts } from './telemetry.js';

export { SCENARIO_NAMES, loadWorkload, type ScenarioName, type Workload } from './scenarios.js';
export type { ExportCounts } from './telemetry.js';
export type { RecoveryDriftSummary } from './recovery.js';

export interface SimulateOptions {
  scenario: ScenarioName;
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318. */
  endpoint: string;
  /** Same seed, scenario, period, end and rate: the same spans. Default 1. */
  seed?: number;
  /** Real seconds the run is paced over. Default 60. */
  durationSec?: number;
  /** Simulated period. Default 24 h; at least a minute. */
  periodMs?: number;
  /** Simulated end (rounded down to a whole minute). Default now. */
  endMs?: number;
  /** Multiplier on the number of requests sent (not on the modelled load). Default 1. */
  rate?: number;
  /** Tenant registry for regions and identifiers. Default fixtures/tenants.yaml. */
  registryPath?: string;
  /** Workload file. Default fixtures/scenarios.yaml. */
  workloadPath?: string;
  /** Ingest token per tenant. Default: the demo tokens, demo-ingest-<tenant id>. */
  tokens?: Record<string, string>;
  /** Admin token for platform-scope backup facts (POST /v1/audit). Default: the demo token, demo-admin. */
  adminToken?: string;
  /** Send the scenario's backup and restore facts (default true); false sends telemetry only. */
  recovery?: boolean;
  /** Called after every batch of simulated minutes is sent. */
  onProgress?: (p: SimulationProgress) => void;
}

export interface SimulationProgress {
  minutesDone: number;
  minutes: number;
  /** Simulated time reached (ms since the epoch). */
  simulatedMs: number;
  spans: number;
  elapsedMs: number;
}

export interface TenantSummary {
  tenant: string;
  region: string;
  /** Requests (server spans) sent under the tenant's token and meant to be stored for it. */
  requests: number;
  /** Their spans (server and children). */
  spans: number;
  /** Requests that failed (server span status ERROR). */
  errors: number;
  /** Error log records. */
  logs: number;
  traces: ExportCounts;
  metrics: ExportCounts;
  logExports: ExportCounts;
}

export interface ResourceSummary {
  /** Service name, the pool's resource name (postgres) or the queue's (orders). */
  resource: string;
  kind: 'service' | 'db' | 'queue';
  /** db.client.connection.pool.name or messaging.destination.name, for the non-services. */
  name: string;
  /** Server spans (services), queries (db) or messages (queue). */
  requests: number;
  errors: number;
  byTenant: Record<string, { requests: number; errors: number }>;
  peakUtilisation: number;
  peakLatencyFactor: number;
}

export interface WindowSummary {
  kind: 'burst' | 'failure';
  tenant: string;
  /** The resources the window is about (for a burst: the service and what its route uses). */
  resources: string[];
  fromMs: number;
  toMs: number;
  description: string;
  /** The tenant's requests on the window's service in the window (bursts), or its requests the failure applies to (failures). */
  requests: number;
  errors: number;
  /** Highest latency factor of the window's resources during it. */
  peakLatencyFactor: number;
}

export interface SimulationSummary {
  scenario: ScenarioName;
  seed: number;
  rate: number;
  startMs: number;
  endMs: number;
  minutes: number;
  durationSec: number;
  elapsedMs: number;
  requests: number;
  spans: number;
  tenants: TenantSummary[];
  resources: ResourceSummary[];
  windows: WindowSummary[];
  leaks: { tenant: string; owner: string; identifier: string; attribute: string; spans: number }[];
  /** Spans whose resource has no tenant.id (stored under the token's tenant, and flagged). */
  missingTenant: { tenant: string; service: string; instance: string; spans: number }[];
  /** Spans whose tenant.id claims another tenant (refused by the server; not in `tenants`). */
  mismatch: { tenant: string; claims: string; service: string; spans: number }[];
  /** Backup and recovery facts sent, and where the scenario departs from the recovery objectives. */
  recovery: {
    /** Per sender (a tenant, or _platform for platform-scope facts) and kind. */
    facts: { sender: string; kind: RecoveryAction; facts: number }[];
    drift: RecoveryDriftSummary[];
  };
  /** All exports of all tenants, per signal; audit: the platform's recovery facts. */
  exports: { traces: ExportCounts; metrics: ExportCounts; logs: ExportCounts; audit: ExportCounts };
}

/** Thrown when no export reached the endpoint at all. */
export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

const TICK_MS = 250;

/** The demo admin token (published plaintext, see README "Demo tokens"). */
export const DEMO_ADMIN_TOKEN = 'demo-admin';

/** The demo ingest token of a tenant (published plaintext, see README "Demo tokens"). */
export function demoToken(tenant: string): string {
  return `demo-ingest-${tenant}`;
}

/** Run a scenario and report what was sent; throws SimulationError if nothing could be sent. */
export async function simulate(opts: SimulateOptions): Promise<SimulationSummary> {
  if (!SCENARIO_NAMES.includes(opts.scenario)) throw new Error(`unknown scenario ${JSON.stringify(opts.scenario)}; one of ${SCENARIO_NAMES.join(', ')}`);
  const seed = opts.seed ?? 1;
  const durationSec = opts.durationSec ?? 60;
  const rate = opts.rate ?? 1;
  const minutes = Math.max(1, Math.floor((opts.periodMs ?? 86_400_000) / MINUTE_MS));
  const endMs = Math.floor((opts.endMs ?? Date.now()) / MINUTE_MS) * MINUTE_MS;
  const startMs = endMs - minutes * MINUTE_MS;
  if (!(durationSec >= 0) || !(rate >= 0)) throw new Error('durationSec and rate must be >= 0');

  const workload = loadWorkload(opts.workloadPath ?? DEFAULT_WORKLOAD);
  const registry = loadRegistry(opts.registryPath ?? fromRoot('fixtures', 'tenants.yaml'));
  const scenario = workload.scenarios[opts.scenario];
  for (const l of scenario.leaks) {
    // A leak is only evidence if the server can tell whose identifier it is.
    if (registry.ownerOfIdentifier(l.identifier) !== l.owner) throw new Error(`scenario ${scenario.name}: ${l.identifier} is not an identifier of ${l.owner} in ${registry.file}`);
  }
  const infos = tenantInfos(workload, registry);
  for (const f of scenario.failures) {
    // A failure that selects nobody would be a truth no report could find.
    if (!infos.some((t) => failureApplies(f, t))) throw new Error(`scenario ${scenario.name}: a failure selects no simulated tenant (region ${f.region ?? '-'})`);
  }
  const model = new WorkloadModel({ workload, scenario, tenants: infos, seed, startMs, minutes, rate });
  const db = workload.resources.find((r) => r.kind === 'db')!;
  const queue = workload.resources.find((r) => r.kind === 'queue')!;
  const telemetry = new Map(
    model.tenants.map((t) => [
      t.id,
      new TenantTelemetry(t, { endpoint: opts.endpoint, token: opts.tokens?.[t.id] ?? demoToken(t.id) }, new SeededIdGenerator(new Rng(seed, t.id, 'ids')), { db, queue }),
    ]),
  );
  const tally = new Tally(workload, model, scenario, startMs);
  const recoveryPlan = { evidence: workload.recovery, drift: scenario.recovery, tenants: tenantRecords(workload, registry), seed, startMs, endMs };
  const recovery = new RecoveryFeed(opts.recovery === false ? [] : planRecovery(recoveryPlan));
  const audit = new AuditSender(opts.endpoint, opts.adminToken ?? DEMO_ADMIN_TOKEN);

  const started = performance.now();
  const durationMs = durationSec * 1000;
  let done = 0;
  let spans = 0;
  let lastTick = -Infinity;
  let metricsDue = workload.metrics_interval_minutes;
  try {
    while (done < minutes) {
      const now = performance.now() - started;
      // Minute m is due once m/minutes of the duration has passed; ticks are spaced so each
      // sends a batch rather than a trickle of tiny requests.
      const due = durationMs === 0 ? minutes : Math.min(minutes, Math.floor((now / durationMs) * minutes) + 1);
      const wait = durationMs === 0 ? 0 : Math.max(lastTick + TICK_MS - now, due > done ? 0 : (done / minutes) * durationMs - now);
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      lastTick = now;
      for (; done < due; done++) {
        const load = model.load(done);
        tally.load(done, load);
        for (const plan of model.plan(done, load)) {
          const n = telemetry.get(plan.tenant)!.emit(plan);
          spans += n;
          tally.request(plan, n, done);
        }
      }
      // Facts before the period (the backups it starts on, restore tests) go with the first tick.
      for (const fact of recovery.due(startMs + done * MINUTE_MS)) {
        if (fact.sender === PLATFORM) audit.add(fact);
        else telemetry.get(fact.sender)!.emitFact(fact);
      }
      await Promise.all([...[...telemetry.values()].map((t) => t.flush()), audit.flush()]);
      if (done >= metricsDue && done < minutes) {
        metricsDue += workload.metrics_interval_minutes;
        await Promise.all([...telemetry.values()].map((t) => t.flushMetrics()));
      }
      // An endpoint that takes nothing at all is a mistake worth stopping for at once.
      const traces = sumCounts([...telemetry.values()].map((t) => t.counts.traces));
      if (traces.items === 0 && traces.failedRequests > 0) throw new SimulationError(`nothing could be sent to ${opts.endpoint}: ${traces.errors.join('; ')}`);
      opts.onProgress?.({ minutesDone: done, minutes, simulatedMs: startMs + done * MINUTE_MS, spans, elapsedMs: performance.now() - started });
    }
  } finally {
    await Promise.all([...telemetry.values()].map((t) => t.shutdown()));
  }

  const exports = {
    traces: sumCounts([...telemetry.values()].map((t) => t.counts.traces)),
    metrics: sumCounts([...telemetry.values()].map((t) => t.counts.metrics)),
    logs: sumCounts([...telemetry.values()].map((t) => t.counts.logs)),
    audit: audit.counts,
  };
  if (exports.traces.items + exports.metrics.items + exports.logs.items + exports.audit.items === 0 && spans > 0) {
    throw new SimulationError(`nothing could be sent to ${opts.endpoint}: ${[...exports.traces.errors, ...exports.metrics.errors, ...exports.audit.errors].join('; ')}`);
  }
  return {
    scenario: opts.scenario,
    seed,
    rate,
    startMs,
    endMs,
    minutes,
    durationSec,
    elapsedMs: Math.round(performance.now() - started),
    requests: tally.requests,
    spans,
    ...tally.summary(telemetry),
    recovery: { facts: recovery.sent, drift: describeDrift(recoveryPlan) },
    exports,
  };
}

function tenantInfos(workload: Workload, registry: Registry): TenantInfo[] {
  return workload.tenants.map((w) => {
    const t = registry.tenant(w.id);
    if (!t) throw new Error(`tenant ${w.id} of the workload is not in the registry ${registry.file}`);
    return { id: t.id, region: t.region, customerCode: t.identifiers.find((i) => /^CUST-/i.test(i)) ?? t.id };
  });
}

// The simulated tenants with their effective recovery objectives.
function tenantRecords(workload: Workload, registry: Registry): TenantRecord[] {
  return workload.tenants.map((w) => registry.tenant(w.id)!);
}

function sumCounts(all: ExportCounts[]): ExportCounts {
  const out = emptyCounts();
  for (const c of all) {
    out.requests += c.requests;
    out.failedRequests += c.failedRequests;
    out.items += c.items;
    out.failedItems += c.failedItems;
    for (const e of c.errors) if (out.errors.length < 5 && !out.errors.includes(e)) out.errors.push(e);
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What was sent, counted as it is planned: the truths the summary reports. */
class Tally {
  requests = 0;
  readonly #tenants = new Map<string, { requests: number; spans: number; errors: number; logs: number }>();
  readonly #resources: Map<string, ResourceSummary>;
  readonly #windows: Array<WindowSummary & { fromMinute: number; toMinute: number; service?: string }>;
  readonly #leaks: SimulationSummary['leaks'];
  readonly #missing: SimulationSummary['missingTenant'];
  readonly #mismatch: SimulationSummary['mismatch'];
  readonly #model: WorkloadModel;

  constructor(workload: Workload, model: WorkloadModel, scenario: Workload['scenarios'][ScenarioName], startMs: number) {
    this.#model = model;
    for (const t of model.tenants) this.#tenants.set(t.id, { requests: 0, spans: 0, errors: 0, logs: 0 });
    this.#resources = new Map(
      workload.resources.map((r) => [
        r.name,
        { resource: r.name, kind: r.kind, name: r.kind === 'db' ? (r.pool ?? r.name) : r.name, requests: 0, errors: 0, byTenant: {}, peakUtilisation: 0, peakLatencyFactor: 1 },
      ]),
    );
    const db = workload.resources.find((r) => r.kind === 'db')!.name;
    const queue = workload.resources.find((r) => r.kind === 'queue')!.name;
    const at = (m: number) => startMs + m * MINUTE_MS;
    this.#windows = [
      ...scenario.bursts.map((b) => {
        const w = model.window(b);
        const route = workload.routes.find((r) => r.service === b.service && r.route === b.route)!;
        const resources = [b.service, ...(route.db.length > 0 ? [db] : []), ...(route.publish > 0 ? [queue] : [])];
        const description = `${b.tenant} at ${b.factor}x its peak rate on ${b.service} (${route.method} ${route.route})`;
        return { kind: 'burst' as const, tenant: b.tenant, service: b.service, resources, ...w, fromMs: at(w.fromMinute), toMs: at(w.toMinute), description, requests: 0, errors: 0, peakLatencyFactor: 1 };
      }),
      // One window per tenant a failure selects, so each tenant's truth is counted on its own.
      ...scenario.failures.flatMap((f) =>
        model.tenants
          .filter((t) => failureApplies(f, t))
          .map((t) => {
            const w = model.window(f);
            const on = f.service ? ` on ${f.service}` : '';
            const description = `${t.id}: ${Math.round(f.error_rate * 100)}% of requests${on} fail with ${f.status} (${f.reason})`;
            const resources = f.service ? [f.service, db] : [db];
            return { kind: 'failure' as const, tenant: t.id, service: f.service, resources, ...w, fromMs: at(w.fromMinute), toMs: at(w.toMinute), description, requests: 0, errors: 0, peakLatencyFactor: 1 };
          }),
      ),
    ];
    this.#leaks = scenario.leaks.map((l) => ({ tenant: l.tenant, owner: l.owner, identifier: l.identifier, attribute: l.attribute, spans: 0 }));
    this.#missing = scenario.missing_tenant.map((m) => ({ tenant: m.tenant, service: m.service, instance: m.instance, spans: 0 }));
    this.#mismatch = scenario.mismatch.map((m) => ({ tenant: m.tenant, claims: m.claims, service: m.service, spans: 0 }));
  }

  load(minute: number, load: Map<string, ResourceLoad>): void {
    for (const [name, l] of load) {
      const r = this.#resources.get(name)!;
      r.peakUtilisation = Math.max(r.peakUtilisation, l.utilisation);
      r.peakLatencyFactor = Math.max(r.peakLatencyFactor, l.factor);
    }
    for (const w of this.#windows) {
      if (minute < w.fromMinute || minute >= w.toMinute) continue;
      for (const name of w.resources) w.peakLatencyFactor = Math.max(w.peakLatencyFactor, load.get(name)!.factor);
    }
  }

  request(plan: RequestPlan, spans: number, minute: number): void {
    if (plan.claims) {
      const m = this.#mismatch.find((x) => x.tenant === plan.tenant && x.claims === plan.claims && x.service === plan.service);
      if (m) m.spans += spans;
      return;
    }
    this.requests++;
    const t = this.#tenants.get(plan.tenant)!;
    t.requests++;
    t.spans += spans;
    if (plan.error) {
      t.errors++;
      t.logs++;
    }
    this.#count(plan.service, plan.tenant, plan.error !== undefined);
    for (const c of plan.children) this.#count(this.#model.resourceOf(c.kind), plan.tenant, c.error !== undefined);
    if (plan.leak) {
      const l = this.#leaks.find((x) => x.tenant === plan.tenant && x.identifier === plan.leak!.identifier);
      if (l) l.spans++;
    }
    if (!plan.tenantContext) {
      const m = this.#missing.find((x) => x.tenant === plan.tenant && x.instance === plan.instance);
      if (m) m.spans += spans;
    }
    for (const w of this.#windows) {
      if (w.tenant !== plan.tenant || minute < w.fromMinute || minute >= w.toMinute) continue;
      if (w.kind === 'burst' && plan.service === w.service) w.requests++;
      if (w.kind === 'failure' && (w.service === undefined || w.service === plan.service)) {
        w.requests++;
        if (plan.error) w.errors++;
      }
    }
  }

  #count(resource: string, tenant: string, error: boolean): void {
    const r = this.#resources.get(resource)!;
    const t = (r.byTenant[tenant] ??= { requests: 0, errors: 0 });
    r.requests++;
    t.requests++;
    if (error) {
      r.errors++;
      t.errors++;
    }
  }

  summary(telemetry: Map<string, TenantTelemetry>): Pick<SimulationSummary, 'tenants' | 'resources' | 'windows' | 'leaks' | 'missingTenant' | 'mismatch'> {
    return {
      tenants: this.#model.tenants.map((info) => {
        const t = this.#tenants.get(info.id)!;
        const c = telemetry.get(info.id)!.counts;
        return { tenant: info.id, region: info.region, ...t, traces: c.traces, metrics: c.metrics, logExports: c.logs };
      }),
      resources: [...this.#resources.values()],
      windows: this.#windows.map(({ fromMinute: _f, toMinute: _t, service: _s, ...w }) => w),
      leaks: this.#leaks,
      missingTenant: this.#missing,
      mismatch: this.#mismatch,
    };
  }
}

// The workload model: what each tenant asks of the shared platform in each simulated minute,
// how loaded that makes every shared resource, and so how long each request takes. It plans
// requests as plain data (no OpenTelemetry here), so the truths the reports must find follow
// from this file and the workload data alone.
//
// Hand-written because it is the product's fixture, not a general tool: a queueing library
// would model one server well but not "seven tenants on five services, one pool and one queue,
// with a day-shaped rate and scripted incidents", and the point is a model simple enough that
// a reader can predict what the noisy-neighbour report will say.
//
// Determinism: every tenant draws from its own streams (seed, tenant, purpose), and the load
// comes from expected rates rather than drawn counts, so a scenario that changes one tenant
// leaves every other tenant's draws, and so its spans, as they were (only its latency may move,
// which is the point).
import { Rng } from './rng.js';
import type { Burst, Failure, FlexibleWindow, Leak, MissingTenant, Mismatch, ResourceDef, RouteDef, Scenario, TenantWorkload, Workload } from './scenarios.js';

export const MINUTE_MS = 60_000;
const MINUTE_US = 60_000_000;

/** What the model needs to know of a tenant beyond its workload. */
export interface TenantInfo {
  id: string;
  /** Home region from the registry (cloud.region). */
  region: string;
  /** The tenant's own customer code, put on order spans. */
  customerCode: string;
}

export interface ChildPlan {
  kind: 'db' | 'queue';
  /** db operation (SELECT) or messaging operation (publish). */
  operation: string;
  /** Table or destination. */
  target: string;
  startUs: number;
  endUs: number;
  error?: { type: string; message: string };
}

/** One request as it will be sent: a SERVER span and its CLIENT/PRODUCER children. */
export interface RequestPlan {
  tenant: string;
  service: string;
  instance: string;
  route: RouteDef;
  startUs: number;
  endUs: number;
  status: number;
  error?: { type: string; message: string };
  children: ChildPlan[];
  /** Extra server span attributes (customer code, leaked identifier). */
  attributes: Record<string, string>;
  /** False for a misconfigured instance that sends no tenant.id. */
  tenantContext: boolean;
  /** The tenant the resource claims in tenant.id when it is not the token's (mismatch). */
  claims?: string;
  /** Which scenario element produced this request's oddity, for the summary. */
  leak?: Leak;
}

export interface ResourceLoad {
  utilisation: number;
  /** Latency multiplier from the load model. */
  factor: number;
}

/** A scenario window in simulated time. */
export interface TimeWindow {
  fromMinute: number;
  toMinute: number;
}

export interface ModelOptions {
  workload: Workload;
  scenario: Scenario;
  tenants: TenantInfo[];
  seed: number;
  /** Simulated start of minute 0 (ms since the epoch, a whole minute). */
  startMs: number;
  minutes: number;
  /** Multiplier on how many requests are emitted; the load model ignores it. */
  rate: number;
}

interface TenantState {
  info: TenantInfo;
  workload: TenantWorkload;
  counts: Rng;
  requests: Rng;
  misc: Rng;
}

/** Plans the requests of every simulated minute. */
export class WorkloadModel {
  readonly #o: ModelOptions;
  readonly #tenants: TenantState[];
  readonly #resources: Map<string, ResourceDef>;
  readonly #db: ResourceDef;
  readonly #queue: ResourceDef;
  readonly #routesByService: Map<string, RouteDef[]>;

  constructor(options: ModelOptions) {
    this.#o = options;
    const { workload, seed } = options;
    this.#resources = new Map(workload.resources.map((r) => [r.name, r]));
    this.#db = workload.resources.find((r) => r.kind === 'db')!;
    this.#queue = workload.resources.find((r) => r.kind === 'queue')!;
    this.#routesByService = new Map();
    for (const r of workload.routes) this.#routesByService.set(r.service, [...(this.#routesByService.get(r.service) ?? []), r]);
    this.#tenants = workload.tenants.map((base) => {
      const info = options.tenants.find((t) => t.id === base.id);
      if (!info) throw new Error(`tenant ${base.id} of the workload is not in the registry`);
      const override = options.scenario.traffic.find((o) => o.tenant === base.id);
      const w = override ? { ...base, rpm: override.rpm } : base;
      return { info, workload: w, counts: new Rng(seed, w.id, 'counts'), requests: new Rng(seed, w.id, 'requests'), misc: new Rng(seed, w.id, 'misc') };
    });
  }

  /** Tenants of the workload, in file order. */
  get tenants(): readonly TenantInfo[] {
    return this.#tenants.map((t) => t.info);
  }

  /** The resource a child call runs on: the shared pool or the queue. */
  resourceOf(kind: ChildPlan['kind']): string {
    return kind === 'db' ? this.#db.name : this.#queue.name;
  }

  /** A scenario window (fractions of the period, or minutes from a fraction) in whole minutes. */
  window(w: FlexibleWindow): TimeWindow {
    const fromMinute = Math.round(w.from * this.#o.minutes);
    const toMinute = w.minutes !== undefined ? Math.min(this.#o.minutes, fromMinute + w.minutes) : Math.round((w.to ?? 1) * this.#o.minutes);
    return { fromMinute, toMinute };
  }

  #active(w: FlexibleWindow, minute: number): boolean {
    const { fromMinute, toMinute } = this.window(w);
    return minute >= fromMinute && minute < toMinute;
  }

  /** The tenant's day-shape weight at a minute, by its local hour, interpolated. */
  #shape(t: TenantWorkload, minute: number): number {
    const utcMinuteOfDay = (((this.#o.startMs / MINUTE_MS + minute) % 1440) + 1440) % 1440;
    const hour = (((utcMinuteOfDay / 60 + t.utc_offset_hours) % 24) + 24) % 24;
    const h0 = Math.floor(hour);
    const frac = hour - h0;
    const shape = this.#o.workload.day_shape;
    return shape[h0]! * (1 - frac) + shape[(h0 + 1) % 24]! * frac;
  }

  /** Expected requests per route of one tenant in one minute, at --rate 1. */
  #expected(t: TenantState, minute: number): Map<RouteDef, number> {
    const out = new Map<RouteDef, number>();
    const shape = this.#shape(t.workload, minute);
    for (const [service, share] of Object.entries(t.workload.mix)) {
      const serviceRate = t.workload.rpm * shape * share;
      for (const r of this.#routesByService.get(service) ?? []) out.set(r, serviceRate * r.weight);
      for (const b of this.#o.scenario.bursts) {
        if (b.tenant !== t.info.id || b.service !== service || !this.#active(b, minute)) continue;
        const route = this.#route(b);
        out.set(route, (out.get(route) ?? 0) + Math.max(0, b.factor * t.workload.rpm * share - serviceRate));
      }
    }
    return out;
  }

  #route(b: Burst): RouteDef {
    return this.#routesByService.get(b.service)!.find((r) => r.route === b.route)!;
  }

  /** Utilisation and latency factor of every resource in a minute, from all tenants' expected load. */
  load(minute: number): Map<string, ResourceLoad> {
    const units = new Map<string, number>();
    const add = (name: string, n: number) => units.set(name, (units.get(name) ?? 0) + n);
    for (const t of this.#tenants) {
      for (const [route, n] of this.#expected(t, minute)) {
        add(route.service, n);
        add(this.#db.name, n * route.db.length);
        add(this.#queue.name, n * route.publish);
      }
    }
    const { k, max_utilisation, max_factor } = this.#o.workload.load_model;
    const out = new Map<string, ResourceLoad>();
    for (const r of this.#resources.values()) {
      const utilisation = (units.get(r.name) ?? 0) / r.capacity;
      const u = Math.min(utilisation, max_utilisation);
      out.set(r.name, { utilisation, factor: Math.min(max_factor, 1 + (k * u) / (1 - u)) });
    }
    return out;
  }

  /** The failure a request of the tenant on the service meets in the minute (the first that applies), else the background rate. */
  #errorFor(tenant: TenantInfo, service: string, minute: number): { rate: number; failure?: Failure } {
    const failure = this.#o.scenario.failures.find((f) => failureApplies(f, tenant, service) && this.#active(f, minute));
    return failure ? { rate: failure.error_rate, failure } : { rate: this.#o.workload.error_rate };
  }

  /** Every request of a minute, tenant by tenant, given that minute's load. */
  plan(minute: number, load: Map<string, ResourceLoad>): RequestPlan[] {
    const out: RequestPlan[] = [];
    const minuteStartUs = (this.#o.startMs + minute * MINUTE_MS) * 1000;
    for (const t of this.#tenants) {
      for (const [route, expected] of this.#expected(t, minute)) {
        const { rate, failure } = this.#errorFor(t.info, route.service, minute);
        const n = t.counts.poisson(expected * this.#o.rate);
        const missing = this.#o.scenario.missing_tenant.find((m) => m.tenant === t.info.id && m.service === route.service);
        const leak = this.#o.scenario.leaks.find((l) => l.tenant === t.info.id && l.route === route.route);
        for (let i = 0; i < n; i++) out.push(this.#request(t, t.requests, route, minuteStartUs, load, rate, failure, missing, leak));
      }
      for (const m of this.#o.scenario.mismatch) {
        if (m.tenant !== t.info.id) continue;
        for (let i = 0; i < mismatchesIn(m, minute); i++) {
          const route = this.#routesByService.get(m.service)![0]!;
          out.push({ ...this.#request(t, t.misc, route, minuteStartUs, load, this.#o.workload.error_rate), claims: m.claims });
        }
      }
    }
    return out;
  }

  #request(
    t: TenantState,
    rng: Rng,
    route: RouteDef,
    minuteStartUs: number,
    load: Map<string, ResourceLoad>,
    errorRate: number,
    failure?: Failure,
    missing?: MissingTenant,
    leak?: Leak,
  ): RequestPlan {
    const service = this.#resources.get(route.service)!;
    const sigma = this.#o.workload.load_model.jitter_sigma;
    // Always the same draws in the same order, whatever the outcome.
    const startUs = minuteStartUs + Math.floor(rng.float() * MINUTE_US);
    const instanceNo = rng.int(service.instances) + 1;
    const failed = rng.float() < errorRate;
    const ownUs = micros(service.base_ms * load.get(service.name)!.factor * Math.exp(sigma * rng.normal()));
    const dbFactor = load.get(this.#db.name)!.factor;
    const queueFactor = load.get(this.#queue.name)!.factor;
    const children: ChildPlan[] = [];
    let at = startUs + Math.round(ownUs * 0.3);
    for (const query of route.db) {
      const [operation = 'SELECT', target = ''] = query.split(' ');
      const d = micros(this.#db.base_ms * dbFactor * Math.exp(sigma * rng.normal()));
      children.push({ kind: 'db', operation, target, startUs: at, endUs: at + d });
      at += d + 50;
    }
    for (let i = 0; i < route.publish; i++) {
      const d = micros(this.#queue.base_ms * queueFactor * Math.exp(sigma * rng.normal()));
      children.push({ kind: 'queue', operation: 'publish', target: this.#queue.name, startUs: at, endUs: at + d });
      at += d + 50;
    }

    const attributes: Record<string, string> = {};
    if (route.customer_code) attributes['order.customer_code'] = t.info.customerCode;
    // Oddities draw from the tenant's own side stream, and only where the scenario has them.
    let tenantContext = true;
    let instance = `${service.name}-${instanceNo}`;
    if (missing && t.misc.float() < missing.share) {
      tenantContext = false;
      instance = missing.instance;
    }
    const leaked = leak !== undefined && t.misc.float() < leak.share;
    if (leaked) attributes[leak.attribute] = leak.identifier;

    let status = route.method === 'POST' ? 201 : 200;
    let error: RequestPlan['error'];
    if (failed) {
      // The request fails where it touches the shared platform: an incident at the pool,
      // anything else at its last call; calls after the failing one never happen.
      const failing = failure ? lastIndex(children, (c) => c.kind === 'db') : children.length - 1;
      const childError = failure
        ? { type: failure.error_type, message: failure.reason }
        : children[failing]?.kind === 'queue'
          ? { type: 'publish_nack', message: 'message not acknowledged by the broker' }
          : { type: '57014', message: 'canceling statement due to statement timeout' };
      status = failure?.status ?? 500;
      error = { type: String(status), message: childError.message };
      if (failing >= 0) {
        children.length = failing + 1;
        children[failing]!.error = childError;
      }
    }
    const last = children.at(-1);
    const endUs = (last ? last.endUs + 50 : startUs + Math.round(ownUs * 0.3)) + Math.round(ownUs * 0.7);
    return { tenant: t.info.id, service: service.name, instance, route, startUs, endUs, status, error, children, attributes, tenantContext, leak: leaked ? leak : undefined };
  }
}

/** Whether a failure selects the tenant (by id, by home region, or every tenant) and the service. */
export function failureApplies(f: Failure, tenant: TenantInfo, service?: string): boolean {
  if (f.tenant !== undefined && f.tenant !== tenant.id) return false;
  if (f.region !== undefined && f.region !== tenant.region) return false;
  return service === undefined || f.service === undefined || f.service === service;
}

/** How many mismatched requests a rule sends in a minute: `per_hour` spread evenly over the hour. */
function mismatchesIn(m: Mismatch, minute: number): number {
  return Math.floor(((minute + 1) * m.per_hour) / 60) - Math.floor((minute * m.per_hour) / 60);
}

function micros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

function lastIndex<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}

// The simulator's workload file (fixtures/scenarios.yaml): the platform's resources and
// routes, each tenant's traffic, and the scenarios. Numbers live in data so a scenario can be
// tuned or added without touching the mechanics; this module reads the file and refuses one
// that the model could not run, naming every problem.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tsError } from '../errors.js';
import { fromRoot } from '../paths.js';
import { RECOVERY_COMPONENTS } from '../config/types.js';

/** The scenarios the CLI offers; the workload file must define exactly these. */
export const SCENARIO_NAMES = [
  'steady',
  'eod-burst',
  'edi-batch',
  'incident',
  'regional-outage',
  'platform-outage',
  'low-traffic',
  'leak',
  'misconfig',
  'recovery-drift',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const DEFAULT_WORKLOAD = fromRoot('fixtures', 'scenarios.yaml');

export type ResourceKind = 'service' | 'db' | 'queue';

export interface ResourceDef {
  name: string;
  kind: ResourceKind;
  /** Service instances (services only). */
  instances: number;
  base_ms: number;
  /** Work units per minute at which utilisation is 1. */
  capacity: number;
  /** Connection pool name (db only). */
  pool?: string;
  /** db.system / messaging.system. */
  system?: string;
  namespace?: string;
}

export interface RouteDef {
  service: string;
  method: string;
  route: string;
  weight: number;
  /** Queries on the pool, "OPERATION table", in order. */
  db: string[];
  /** Messages published to the queue. */
  publish: number;
  /** Whether the span names the tenant's customer code (order.customer_code). */
  customer_code: boolean;
}

export interface TenantWorkload {
  id: string;
  rpm: number;
  utc_offset_hours: number;
  mix: Record<string, number>;
}

/** A window as fractions [from, to) of the simulated period. */
export interface Window {
  from: number;
  to: number;
}

/** A window as fractions of the period, or as whole `minutes` from the fraction `from` (exactly one of `to` and `minutes`). */
export interface FlexibleWindow {
  from: number;
  to?: number;
  minutes?: number;
}

export interface Burst extends Window {
  tenant: string;
  service: string;
  route: string;
  factor: number;
}

/**
 * Requests of the selected tenants fail during the window. A failure selects by `tenant` or by
 * `region` (the tenants whose home region it is), or, with neither, every tenant; `service`
 * narrows it to one service. Its window may be a fixed number of minutes from `from`, so an
 * outage lasts as long whatever the simulated period.
 */
export interface Failure extends FlexibleWindow {
  tenant?: string;
  region?: string;
  service?: string;
  error_rate: number;
  status: number;
  error_type: string;
  reason: string;
}

/** The tenant's peak rate in this scenario, in place of the workload's. */
export interface TrafficOverride {
  tenant: string;
  rpm: number;
}

export interface Leak {
  tenant: string;
  route: string;
  owner: string;
  identifier: string;
  attribute: string;
  share: number;
}

export interface MissingTenant {
  tenant: string;
  service: string;
  instance: string;
  share: number;
}

export interface Mismatch {
  tenant: string;
  service: string;
  claims: string;
  per_hour: number;
}

/** No backup of the component completes inside the window. */
export interface BackupGap extends Window {
  tenant: string;
  component: string;
}

/** The tenant's latest restore test is this many days old at the period's end. */
export interface RestoreTestAge {
  tenant: string;
  days: number;
}

/** A required component the tenant never backs up. */
export interface SkippedComponent {
  tenant: string;
  component: string;
}

/** The component's backups are stored in `region` instead of the tenant's home region. */
export interface BackupRegion {
  tenant: string;
  component: string;
  region: string;
}

/** How a scenario's backup and restore evidence departs from the objectives. */
export interface RecoveryDrift {
  backup_gaps: BackupGap[];
  restore_test_age: RestoreTestAge[];
  skipped_components: SkippedComponent[];
  backup_regions: BackupRegion[];
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  bursts: Burst[];
  failures: Failure[];
  traffic: TrafficOverride[];
  leaks: Leak[];
  missing_tenant: MissingTenant[];
  mismatch: Mismatch[];
  recovery: RecoveryDrift;
}

/** How the backup and restore evidence of every scenario is fitted to the registry's objectives. */
export interface RecoveryEvidence {
  /** Tiers whose tenants ride on platform backups; every other tier's tenants back up their own data. */
  platform_tiers: string[];
  /** Backups of each component per RPO: the cadence is RPO / this, in whole minutes. */
  backups_per_rpo: number;
  /** A backup's snapshot is taken this long before it completes. */
  snapshot_lag_minutes: number;
  /** Each tenant's latest restore test is this many days before the period's end. */
  restore_test_days_before_end: number;
  /** A restore or failover test takes this share of the RTO, drawn per tenant in [min, max]. */
  test_rto_share: { min: number; max: number };
  /** When, as a fraction of the period, a tenant that needs a DR region tests failover. */
  failover_at: number;
  /** Key id of platform backups; {region} stands for the backup's region. */
  platform_key: string;
}

export interface LoadModelParams {
  k: number;
  max_utilisation: number;
  max_factor: number;
  jitter_sigma: number;
}

export interface Workload {
  load_model: LoadModelParams;
  /** 24 hourly weights relative to the daily peak. */
  day_shape: number[];
  metrics_interval_minutes: number;
  error_rate: number;
  resources: ResourceDef[];
  routes: RouteDef[];
  tenants: TenantWorkload[];
  recovery: RecoveryEvidence;
  scenarios: Record<ScenarioName, Scenario>;
}

type Obj = Record<string, unknown>;

/** Collects every problem of the file before refusing it. */
class Checker {
  readonly problems: string[] = [];

  obj(v: unknown, path: string): Obj {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Obj;
    this.problems.push(`${path}: expected a mapping`);
    return {};
  }

  list(v: unknown, path: string, optional = false): unknown[] {
    if (Array.isArray(v)) return v;
    if (!(optional && v === undefined)) this.problems.push(`${path}: expected a list`);
    return [];
  }

  num(o: Obj, key: string, path: string, min = 0, max = Infinity, fallback?: number): number {
    const v = o[key] ?? fallback;
    if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return v;
    this.problems.push(`${path}.${key}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return min;
  }

  str(o: Obj, key: string, path: string, fallback?: string): string {
    const v = o[key] ?? fallback;
    if (typeof v === 'string' && v !== '') return v;
    this.problems.push(`${path}.${key}: expected a non-empty string, got ${JSON.stringify(v)}`);
    return '';
  }

  oneOf(value: string, allowed: readonly string[], path: string): void {
    if (value !== '' && !allowed.includes(value)) this.problems.push(`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }

  window(o: Obj, path: string): Window {
    const from = this.num(o, 'from', path, 0, 1);
    const to = this.num(o, 'to', path, 0, 1);
    if (to <= from) this.problems.push(`${path}: window ends (${to}) before it starts (${from})`);
    return { from, to };
  }

  /** A window given either as fractions or as whole `minutes` from the fraction `from`. */
  flexibleWindow(o: Obj, path: string): FlexibleWindow {
    if (o.minutes === undefined) return this.window(o, path);
    if (o.to !== undefined) this.problems.push(`${path}: give either to or minutes, not both`);
    const from = this.num(o, 'from', path, 0, 1);
    const minutes = this.num(o, 'minutes', path, 1, 525_600);
    if (!Number.isInteger(minutes)) this.problems.push(`${path}.minutes: expected whole minutes, got ${minutes}`);
    return { from, minutes };
  }
}

/** Read and check a workload file (default fixtures/scenarios.yaml); throws TS_ERR_CONFIG listing every problem. */
export function loadWorkload(file: string = DEFAULT_WORKLOAD): Workload {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw tsError('TS_ERR_CONFIG', [`${file}: cannot read the workload file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw tsError('TS_ERR_CONFIG', [`${file}: ${(e as Error).message}`]);
  }
  const c = new Checker();
  const workload = checkWorkload(c, c.obj(doc, '(document)'));
  if (c.problems.length > 0) throw tsError('TS_ERR_CONFIG', [`${file}:\n  ${c.problems.join('\n  ')}`]);
  return workload;
}

function checkWorkload(c: Checker, root: Obj): Workload {
  const lm = c.obj(root.load_model, 'load_model');
  const load_model: LoadModelParams = {
    k: c.num(lm, 'k', 'load_model'),
    max_utilisation: c.num(lm, 'max_utilisation', 'load_model', 0.01, 0.999),
    max_factor: c.num(lm, 'max_factor', 'load_model', 1),
    jitter_sigma: c.num(lm, 'jitter_sigma', 'load_model', 0, 2, 0),
  };
  const day_shape = c.list(root.day_shape, 'day_shape').map((v, i) => c.num({ v }, 'v', `day_shape[${i}]`, 0, 1));
  if (day_shape.length !== 24) c.problems.push(`day_shape: expected 24 hourly weights, got ${day_shape.length}`);
  const metrics_interval_minutes = c.num(root, 'metrics_interval_minutes', '(document)', 1, Infinity, 60);
  const error_rate = c.num(root, 'error_rate', '(document)', 0, 1, 0);

  const resources: ResourceDef[] = Object.entries(c.obj(root.resources, 'resources')).map(([name, raw]) => {
    const p = `resources.${name}`;
    const r = c.obj(raw, p);
    const kind = c.str(r, 'kind', p) as ResourceKind;
    c.oneOf(kind, ['service', 'db', 'queue'], `${p}.kind`);
    return {
      name,
      kind,
      instances: kind === 'service' ? c.num(r, 'instances', p, 1, 100, 1) : 0,
      base_ms: c.num(r, 'base_ms', p),
      capacity: c.num(r, 'capacity', p, 0.001),
      pool: kind === 'db' ? c.str(r, 'pool', p) : undefined,
      system: kind === 'service' ? undefined : c.str(r, 'system', p),
      namespace: typeof r.namespace === 'string' ? r.namespace : undefined,
    };
  });
  const services = resources.filter((r) => r.kind === 'service').map((r) => r.name);
  if (resources.filter((r) => r.kind === 'db').length !== 1) c.problems.push('resources: expected exactly one db resource (the shared pool)');
  if (resources.filter((r) => r.kind === 'queue').length !== 1) c.problems.push('resources: expected exactly one queue resource');

  const routes: RouteDef[] = [];
  for (const [service, raw] of Object.entries(c.obj(root.routes, 'routes'))) {
    c.oneOf(service, services, `routes.${service}`);
    c.list(raw, `routes.${service}`).forEach((item, i) => {
      const p = `routes.${service}[${i}]`;
      const r = c.obj(item, p);
      routes.push({
        service,
        method: c.str(r, 'method', p),
        route: c.str(r, 'route', p),
        weight: c.num(r, 'weight', p, 0, 1),
        db: c.list(r.db, `${p}.db`, true).map((q, j) => c.str({ q }, 'q', `${p}.db[${j}]`)),
        publish: c.num(r, 'publish', p, 0, 100, 0),
        customer_code: r.customer_code === true,
      });
    });
  }
  for (const s of services) {
    const total = routes.filter((r) => r.service === s).reduce((a, r) => a + r.weight, 0);
    if (Math.abs(total - 1) > 1e-6) c.problems.push(`routes.${s}: route weights add up to ${total}, expected 1`);
  }
  const routeOf = (service: string, route: string, p: string) => {
    if (!routes.some((r) => r.service === service && r.route === route)) c.problems.push(`${p}: ${service} has no route ${route}`);
  };

  const tenants: TenantWorkload[] = Object.entries(c.obj(root.tenants, 'tenants')).map(([id, raw]) => {
    const p = `tenants.${id}`;
    const t = c.obj(raw, p);
    const mix: Record<string, number> = {};
    for (const [s, v] of Object.entries(c.obj(t.mix, `${p}.mix`))) {
      c.oneOf(s, services, `${p}.mix.${s}`);
      mix[s] = c.num({ v }, 'v', `${p}.mix.${s}`, 0, 1);
    }
    const total = Object.values(mix).reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-6) c.problems.push(`${p}.mix: shares add up to ${total}, expected 1`);
    return { id, rpm: c.num(t, 'rpm', p), utc_offset_hours: c.num(t, 'utc_offset_hours', p, -12, 14), mix };
  });
  const tenantIds = tenants.map((t) => t.id);
  const recovery = checkRecoveryEvidence(c, c.obj(root.recovery, 'recovery'));

  const rawScenarios = c.obj(root.scenarios, 'scenarios');
  for (const name of Object.keys(rawScenarios)) c.oneOf(name, SCENARIO_NAMES, `scenarios.${name}`);
  const scenarios = {} as Record<ScenarioName, Scenario>;
  for (const name of SCENARIO_NAMES) {
    const p = `scenarios.${name}`;
    if (rawScenarios[name] === undefined) {
      c.problems.push(`${p}: missing`);
      continue;
    }
    const s = c.obj(rawScenarios[name], p);
    const items = (key: string) => c.list(s[key], `${p}.${key}`, true).map((v, i) => [c.obj(v, `${p}.${key}[${i}]`), `${p}.${key}[${i}]`] as const);
    const tenant = (o: Obj, q: string, key = 'tenant') => {
      const t = c.str(o, key, q);
      c.oneOf(t, tenantIds, `${q}.${key}`);
      return t;
    };
    scenarios[name] = {
      name,
      description: typeof s.description === 'string' ? s.description : '',
      bursts: items('bursts').map(([o, q]) => {
        const b = { tenant: tenant(o, q), service: c.str(o, 'service', q), route: c.str(o, 'route', q), factor: c.num(o, 'factor', q, 1), ...c.window(o, q) };
        routeOf(b.service, b.route, q);
        return b;
      }),
      failures: items('failures').map(([o, q]) => checkFailure(c, o, q, tenant, services)),
      traffic: items('traffic').map(([o, q]) => ({ tenant: tenant(o, q), rpm: c.num(o, 'rpm', q) })),
      leaks: items('leaks').map(([o, q]) => {
        const l = {
          tenant: tenant(o, q),
          route: c.str(o, 'route', q),
          owner: tenant(o, q, 'owner'),
          identifier: c.str(o, 'identifier', q),
          attribute: c.str(o, 'attribute', q),
          share: c.num(o, 'share', q, 0, 1),
        };
        if (l.route !== '' && !routes.some((r) => r.route === l.route)) c.problems.push(`${q}.route: no service has route ${l.route}`);
        return l;
      }),
      missing_tenant: items('missing_tenant').map(([o, q]) => {
        const m = { tenant: tenant(o, q), service: c.str(o, 'service', q), instance: c.str(o, 'instance', q), share: c.num(o, 'share', q, 0, 1) };
        c.oneOf(m.service, services, `${q}.service`);
        return m;
      }),
      mismatch: items('mismatch').map(([o, q]) => {
        const m = { tenant: tenant(o, q), service: c.str(o, 'service', q), claims: tenant(o, q, 'claims'), per_hour: c.num(o, 'per_hour', q, 0) };
        c.oneOf(m.service, services, `${q}.service`);
        if (m.claims === m.tenant) c.problems.push(`${q}: a tenant cannot mis-claim itself`);
        return m;
      }),
      recovery: checkRecoveryDrift(c, s.recovery, `${p}.recovery`, (o, q) => tenant(o, q)),
    };
  }
  return { load_model, day_shape, metrics_interval_minutes, error_rate, resources, routes, tenants, recovery, scenarios };
}

const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checkFailure(c: Checker, o: Obj, q: string, tenant: (o: Obj, path: string) => string, services: readonly string[]): Failure {
  if (o.tenant !== undefined && o.region !== undefined) c.problems.push(`${q}: select by tenant or by region, not both`);
  const f: Failure = {
    error_rate: c.num(o, 'error_rate', q, 0, 1),
    status: c.num(o, 'status', q, 400, 599, 500),
    error_type: c.str(o, 'error_type', q, 'internal'),
    reason: c.str(o, 'reason', q, 'internal error'),
    ...c.flexibleWindow(o, q),
  };
  if (o.tenant !== undefined) f.tenant = tenant(o, q);
  if (o.region !== undefined) {
    f.region = c.str(o, 'region', q);
    if (f.region !== '' && !REGION.test(f.region)) c.problems.push(`${q}.region: expected a region name such as eu-central-1, got ${JSON.stringify(f.region)}`);
  }
  if (o.service !== undefined) {
    f.service = c.str(o, 'service', q);
    c.oneOf(f.service, services, `${q}.service`);
  }
  return f;
}

function checkRecoveryEvidence(c: Checker, r: Obj): RecoveryEvidence {
  const p = 'recovery';
  const share = c.obj(r.test_rto_share, `${p}.test_rto_share`);
  const test_rto_share = { min: c.num(share, 'min', `${p}.test_rto_share`, 0.01, 1), max: c.num(share, 'max', `${p}.test_rto_share`, 0.01, 1) };
  if (test_rto_share.max < test_rto_share.min) c.problems.push(`${p}.test_rto_share: max (${test_rto_share.max}) is below min (${test_rto_share.min})`);
  const platform_key = c.str(r, 'platform_key', p);
  if (platform_key !== '' && !platform_key.includes('{region}')) c.problems.push(`${p}.platform_key: expected {region} in it, so each region's backups name their own key`);
  return {
    platform_tiers: c.list(r.platform_tiers, `${p}.platform_tiers`).map((v, i) => c.str({ v }, 'v', `${p}.platform_tiers[${i}]`)),
    backups_per_rpo: c.num(r, 'backups_per_rpo', p, 1, 60),
    snapshot_lag_minutes: c.num(r, 'snapshot_lag_minutes', p, 0, 1440),
    restore_test_days_before_end: c.num(r, 'restore_test_days_before_end', p, 0.01, 365),
    test_rto_share,
    failover_at: c.num(r, 'failover_at', p, 0, 0.999),
    platform_key,
  };
}

function checkRecoveryDrift(c: Checker, raw: unknown, p: string, tenant: (o: Obj, path: string) => string): RecoveryDrift {
  const r = raw === undefined ? {} : c.obj(raw, p);
  const items = (key: string) => c.list(r[key], `${p}.${key}`, true).map((v, i) => [c.obj(v, `${p}.${key}[${i}]`), `${p}.${key}[${i}]`] as const);
  const component = (o: Obj, q: string) => {
    const name = c.str(o, 'component', q);
    c.oneOf(name, RECOVERY_COMPONENTS, `${q}.component`);
    return name;
  };
  return {
    backup_gaps: items('backup_gaps').map(([o, q]) => ({ tenant: tenant(o, q), component: component(o, q), ...c.window(o, q) })),
    restore_test_age: items('restore_test_age').map(([o, q]) => ({ tenant: tenant(o, q), days: c.num(o, 'days', q, 0.01, 3650) })),
    skipped_components: items('skipped_components').map(([o, q]) => ({ tenant: tenant(o, q), component: component(o, q) })),
    backup_regions: items('backup_regions').map(([o, q]) => {
      const region = c.str(o, 'region', q);
      if (region !== '' && !REGION.test(region)) c.problems.push(`${q}.region: expected a region name such as us-east-1, got ${JSON.stringify(region)}`);
      return { tenant: tenant(o, q), component: component(o, q), region };
    }),
  };
}

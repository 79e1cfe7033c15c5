// Per-tenant ingest quotas: two token buckets per tenant (records per second and bytes per
// second, from the tier's quotas with the tenant's overrides), so one tenant's flood is
// refused at its own limit instead of slowing everyone down.
//
// A bucket holds `burstSeconds` worth of its rate. A request is admitted while the bucket is
// not empty and then pays its whole cost, which may leave the bucket in debt: a single
// request larger than the burst still gets through (once), and the debt makes the tenant
// wait proportionally before the next one. The refusal says how long that wait is, as
// Retry-After (HTTP) or RetryInfo (gRPC).
import type { Registry, TenantRecord } from '../config/index.js';

export interface QuotaOptions {
  /** Seconds of a tenant's rate it may send at once after being idle. */
  burstSeconds: number;
  /** Clock in ms (tests use their own). */
  now: () => number;
}

export const DEFAULT_QUOTA_OPTIONS: QuotaOptions = { burstSeconds: 2, now: () => performance.now() };

interface Bucket {
  tokens: number;
  rate: number;
  capacity: number;
  at: number;
}

interface TenantBuckets {
  records: Bucket;
  bytes: Bucket;
}

/** What a tenant was refused, for metrics and reports. */
export interface ThrottleCounts {
  requests: number;
  records: number;
  bytes: number;
}

export class TenantQuotas {
  private readonly buckets = new Map<string, TenantBuckets>();
  private readonly refused = new Map<string, ThrottleCounts>();
  private readonly opts: QuotaOptions;

  constructor(
    private readonly registry: Registry,
    opts: Partial<QuotaOptions> = {},
  ) {
    this.opts = { ...DEFAULT_QUOTA_OPTIONS, ...opts };
  }

  /** Seconds until the tenant may send again; 0 when it may send now. */
  retryAfterSeconds(tenantId: string): number {
    const b = this.of(tenantId);
    if (!b) return 0;
    const now = this.opts.now();
    const wait = Math.max(waitMs(b.records, now), waitMs(b.bytes, now));
    return wait <= 0 ? 0 : Math.min(60, Math.max(1, Math.ceil(wait / 1000)));
  }

  /** Take a request's cost from the tenant's buckets (after retryAfterSeconds said 0). */
  charge(tenantId: string, records: number, bytes: number): void {
    const b = this.of(tenantId);
    if (!b) return;
    const now = this.opts.now();
    take(b.records, records, now);
    take(b.bytes, bytes, now);
  }

  /** Count a refused request against the tenant. */
  noteRefused(tenantId: string, records: number, bytes: number): void {
    const c = this.refused.get(tenantId) ?? { requests: 0, records: 0, bytes: 0 };
    c.requests++;
    c.records += records;
    c.bytes += bytes;
    this.refused.set(tenantId, c);
  }

  /** Refusals so far, per tenant. */
  refusals(): ReadonlyMap<string, Readonly<ThrottleCounts>> {
    return this.refused;
  }

  private of(tenantId: string): TenantBuckets | undefined {
    let b = this.buckets.get(tenantId);
    if (b) return b;
    const tenant = this.registry.tenant(tenantId);
    if (!tenant) return undefined;
    b = this.fresh(tenant);
    this.buckets.set(tenantId, b);
    return b;
  }

  private fresh(t: TenantRecord): TenantBuckets {
    const now = this.opts.now();
    const bucket = (rate: number): Bucket => ({ rate, capacity: rate * this.opts.burstSeconds, tokens: rate * this.opts.burstSeconds, at: now });
    return { records: bucket(t.quotas.eventsPerSecond), bytes: bucket(t.quotas.bytesPerSecond) };
  }
}

function refill(b: Bucket, now: number): void {
  if (now > b.at) {
    b.tokens = Math.min(b.capacity, b.tokens + ((now - b.at) / 1000) * b.rate);
    b.at = now;
  }
}

// Admission needs a non-empty bucket; the wait is until the debt is paid back.
function waitMs(b: Bucket, now: number): number {
  refill(b, now);
  return b.tokens > 0 ? 0 : ((-b.tokens + 1) / b.rate) * 1000;
}

function take(b: Bucket, n: number, now: number): void {
  refill(b, now);
  b.tokens -= n;
}

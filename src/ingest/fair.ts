// Fair admission to the ingest work: at most `concurrency` requests are decoded, redacted and
// stored at once; the rest wait in one queue per tenant, and a free slot goes to the tenants
// in turn, not to whoever queued most. A tenant flooding the receiver waits behind its own
// requests only; the others keep their turn, so their latency does not grow with the flood.
// Each tenant's queue is bounded, so a flood costs bounded memory and is told to back off.
//
// Hand-written: the queue libraries on npm (p-queue, bottleneck) order by priority or
// arrival, not round-robin across keys, and the whole scheduler is a few lines.
import { tsError } from '../errors.js';

export interface FairOptions {
  /** Requests worked on at once. */
  concurrency: number;
  /** Requests one tenant may have waiting; beyond, it is refused (429). */
  maxQueuedPerTenant: number;
}

export const DEFAULT_FAIR_OPTIONS: FairOptions = { concurrency: 32, maxQueuedPerTenant: 64 };

interface Waiting {
  start: () => void;
}

export class FairScheduler {
  private active = 0;
  /** Tenants with waiting requests, in turn order; a tenant served goes to the back. */
  private readonly turn: string[] = [];
  private readonly queues = new Map<string, Waiting[]>();
  private readonly opts: FairOptions;

  constructor(opts: Partial<FairOptions> = {}) {
    this.opts = { ...DEFAULT_FAIR_OPTIONS, ...opts };
  }

  /** Run `fn` for `tenant` once a slot is free and it is the tenant's turn. */
  async run<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.opts.concurrency || this.turn.length > 0) await this.wait(tenant);
    else this.active++;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Requests running and waiting, in all. */
  load(): { running: number; waiting: number } {
    let waiting = 0;
    for (const q of this.queues.values()) waiting += q.length;
    return { running: this.active, waiting };
  }

  /** Requests waiting, per tenant (queue depth). */
  depth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, q] of this.queues) out[t] = q.length;
    return out;
  }

  private wait(tenant: string): Promise<void> {
    let q = this.queues.get(tenant);
    if (!q) {
      q = [];
      this.queues.set(tenant, q);
      this.turn.push(tenant);
    }
    if (q.length >= this.opts.maxQueuedPerTenant) {
      return Promise.reject(
        tsError('TS_ERR_RATE_LIMITED', [tenant, `${q.length} requests already waiting`, 1], { tenant, retryAfterSeconds: 1, queueFull: true }),
      );
    }
    return new Promise<void>((resolve) => q.push({ start: resolve }));
  }

  // The slot passes straight to the next tenant in turn (active stays the same).
  private release(): void {
    const tenant = this.turn.shift();
    if (tenant === undefined) {
      this.active--;
      return;
    }
    const q = this.queues.get(tenant)!;
    const next = q.shift()!;
    if (q.length > 0) this.turn.push(tenant);
    else this.queues.delete(tenant);
    next.start();
  }
}

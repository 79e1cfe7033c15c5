// Streamed policy evaluation: audit events and ingest summaries are evaluated on a worker
// thread while their data is being stored. Ingest waits for the verdict at most `budgetMs`;
// past that it acknowledges anyway and the findings are recorded when they come. An input
// whose evaluation runs past `hardTimeoutMs` is recorded as a policy error, the worker is
// replaced, and the inputs behind it are evaluated by the new one: nothing is dropped silently.
// When the backlog passes `maxQueued`, new inputs are not evaluated and each such skip is
// recorded as a policy error (bounded memory beats an unbounded queue; the record says so).
import { Worker } from 'node:worker_threads';
import type { Registry } from '../config/index.js';
import type { Logger } from '../log.js';
import type { PolicySet } from './policy-set.js';
import { registryDocument } from './registry-data.js';
import type { FailureContext, FindingRecorder } from './recorder.js';
import type { StreamedInput } from './types.js';
import type { WorkerReply, WorkerRequest, WorkerResult } from './worker-protocol.js';

export interface StreamOptions {
  /** Longest ingest waits for a verdict before acknowledging. */
  budgetMs: number;
  /** An evaluation running longer than this is abandoned and recorded as an error. */
  hardTimeoutMs: number;
  /** Inputs waiting beyond this many are recorded as not evaluated. */
  maxQueued: number;
  /** Inputs sent to the worker per message. */
  batchSize: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { budgetMs: 50, hardTimeoutMs: 5000, maxQueued: 100_000, batchSize: 512 };

/** Counters for self-metrics and the policy status endpoint. */
export interface StreamStats {
  evaluated: number;
  findings: number;
  failures: number;
  timeouts: number;
  skipped: number;
  /** Ingest requests that stopped waiting at the budget. */
  overBudget: number;
  queued: number;
  /** Worker time spent evaluating, ms. */
  evalMs: number;
}

interface Item {
  id: number;
  input: StreamedInput;
  done: () => void;
}

export class StreamPolicies {
  private worker: Worker | undefined;
  private set: PolicySet | undefined;
  private readonly queue: Item[] = [];
  private inFlight: { seq: number; items: Map<number, Item>; order: Item[]; timer: NodeJS.Timeout } | undefined;
  private seq = 0;
  private nextId = 0;
  private closed = false;
  private readonly pendingRecords = new Set<Promise<void>>();
  readonly stats: StreamStats = { evaluated: 0, findings: 0, failures: 0, timeouts: 0, skipped: 0, overBudget: 0, queued: 0, evalMs: 0 };

  constructor(
    private readonly registry: Registry,
    private readonly recorder: FindingRecorder,
    private readonly log: Logger,
    private readonly opts: StreamOptions = DEFAULT_STREAM_OPTIONS,
    /** Told each input's evaluation time in the worker, ms. */
    private readonly onEvaluated?: (ms: number) => void,
  ) {}

  /** The policy set being evaluated. */
  get current(): PolicySet | undefined {
    return this.set;
  }

  /** Evaluate with `set` from now on; resolves once the worker has compiled it. */
  async load(set: PolicySet): Promise<void> {
    const previous = this.set;
    this.set = set;
    if (!this.worker) this.worker = this.spawn();
    try {
      await this.send({ t: 'load', set, registry: registryDocument(this.registry) });
    } catch (e) {
      this.set = previous;
      throw e;
    } finally {
      this.pump();
    }
  }

  /** Evaluate inputs; resolves once their findings are recorded, or after the budget. */
  submit(inputs: readonly StreamedInput[]): Promise<void> {
    if (inputs.length === 0 || !this.set || this.closed) return Promise.resolve();
    const waits: Promise<void>[] = [];
    for (const input of inputs) {
      if (this.queue.length >= this.opts.maxQueued) {
        this.stats.skipped++;
        this.fail([{ pkg: 'tenantscope', tenant: input.tenant, kind: input.kind, message: `not evaluated: ${this.opts.maxQueued} inputs were already waiting`, evidence: ids(input) }]);
        continue;
      }
      waits.push(new Promise<void>((done) => this.queue.push({ id: this.nextId++, input, done })));
      if (!this.inFlight) this.pump();
    }
    this.pump();
    this.stats.queued = this.queue.length;
    const all = Promise.all(waits).then(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.stats.overBudget++;
        resolve();
      }, this.opts.budgetMs);
    });
    return Promise.race([all.then(() => clearTimeout(timer)), budget]);
  }

  /** Resolves once everything submitted so far is evaluated and its findings recorded. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight || this.loadWaiter) await new Promise((r) => setTimeout(r, 2));
    await Promise.allSettled([...this.pendingRecords]);
  }

  /** Evaluate what is queued, record it, and stop the worker. */
  async close(): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + this.opts.hardTimeoutMs;
    while ((this.queue.length > 0 || this.inFlight) && Date.now() < deadline && this.worker) await new Promise((r) => setTimeout(r, 5));
    await Promise.allSettled([...this.pendingRecords]);
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./policy-worker.js', import.meta.url));
    w.on('message', (m: WorkerReply) => this.onMessage(m));
    w.on('error', (e) => this.onWorkerLost(w, `worker failed: ${e.message}`));
    w.on('exit', (code) => {
      if (this.worker === w && !this.closed) this.onWorkerLost(w, `worker exited with code ${code}`);
    });
    return w;
  }

  private loadWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private send(m: Extract<WorkerRequest, { t: 'load' }>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.loadWaiter = { resolve, reject };
      this.worker!.postMessage(m);
    });
  }

  private onMessage(m: WorkerReply): void {
    if (m.t === 'loaded') {
      this.loadWaiter?.resolve();
      this.loadWaiter = undefined;
      return;
    }
    if (m.t === 'load_error') {
      this.loadWaiter?.reject(new Error(m.error));
      this.loadWaiter = undefined;
      return;
    }
    const f = this.inFlight;
    if (!f || f.seq !== m.batch) return;
    for (const r of m.results) {
      const item = f.items.get(r.id);
      if (!item) continue;
      f.items.delete(r.id);
      this.settle(item, r);
    }
    if (m.done) {
      clearTimeout(f.timer);
      this.inFlight = undefined;
      this.pump();
    }
  }

  private settle(item: Item, r: WorkerResult): void {
    this.stats.evaluated++;
    this.stats.findings += r.findings.length;
    this.stats.failures += r.failures.length;
    this.stats.evalMs += r.ms;
    this.onEvaluated?.(r.ms);
    const failures: FailureContext[] = r.failures.map((x) => ({ pkg: x.pkg, tenant: item.input.tenant, kind: item.input.kind, message: x.message, evidence: ids(item.input) }));
    if (r.findings.length === 0 && failures.length === 0) {
      item.done();
      return;
    }
    this.track(this.recorder.record(r.findings, failures, 'stream')).finally(item.done);
  }

  private fail(failures: FailureContext[]): void {
    this.stats.failures += failures.length;
    void this.track(this.recorder.record([], failures, 'stream'));
  }

  // Recording failures are logged by the writer; ingest's acknowledgement does not depend on them.
  private track(p: Promise<void>): Promise<void> {
    const q = p.catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'recording violations failed'));
    this.pendingRecords.add(q);
    void q.finally(() => this.pendingRecords.delete(q));
    return q;
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || !this.worker || this.loadWaiter) return;
    const order = this.queue.splice(0, this.opts.batchSize);
    this.stats.queued = this.queue.length;
    const seq = ++this.seq;
    const timer = setTimeout(() => this.onTimeout(seq), this.opts.hardTimeoutMs);
    this.inFlight = { seq, items: new Map(order.map((i) => [i.id, i])), order, timer };
    this.worker.postMessage({ t: 'eval', seq, batch: order.map((i) => ({ id: i.id, input: i.input })) } satisfies WorkerRequest);
  }

  // The batch did not finish in time. Results arrive in order, so the first unanswered input is
  // the one running: it is recorded as timed out, the rest go back to the front of the queue.
  private onTimeout(seq: number): void {
    const f = this.inFlight;
    if (!f || f.seq !== seq) return;
    const pending = f.order.filter((i) => f.items.has(i.id));
    const culprit = pending.shift();
    this.inFlight = undefined;
    if (culprit) {
      this.stats.timeouts++;
      this.fail([{ pkg: 'tenantscope', tenant: culprit.input.tenant, kind: culprit.input.kind, message: `evaluation exceeded ${this.opts.hardTimeoutMs} ms and was abandoned`, evidence: ids(culprit.input) }]);
      culprit.done();
    }
    this.queue.unshift(...pending);
    this.restart('evaluation timed out');
  }

  private onWorkerLost(w: Worker, reason: string): void {
    if (this.worker !== w) return;
    const f = this.inFlight;
    if (f) {
      clearTimeout(f.timer);
      this.inFlight = undefined;
      const pending = f.order.filter((i) => f.items.has(i.id));
      const culprit = pending.shift();
      if (culprit) {
        this.fail([{ pkg: 'tenantscope', tenant: culprit.input.tenant, kind: culprit.input.kind, message: reason, evidence: ids(culprit.input) }]);
        culprit.done();
      }
      this.queue.unshift(...pending);
    }
    this.restart(reason);
  }

  private restart(reason: string): void {
    this.log.warn({ reason, queued: this.queue.length }, 'replacing the policy worker');
    const old = this.worker;
    this.worker = undefined;
    this.loadWaiter?.reject(new Error(reason));
    this.loadWaiter = undefined;
    void old?.terminate();
    if (this.closed || !this.set) return;
    this.worker = this.spawn();
    this.send({ t: 'load', set: this.set, registry: registryDocument(this.registry) }).then(
      () => this.pump(),
      (e: unknown) => this.log.error({ err: (e as Error).message }, 'policy worker could not reload its policies'),
    );
  }
}

/** The ids that locate an input, for a failure's evidence. */
function ids(input: StreamedInput): Record<string, unknown> {
  return input.kind === 'audit_event' ? { event_ids: [input.event.id] } : { request_ids: [input.request_id], signal: input.signal };
}

// The policy service of a running tenantscope: loads the policy directory (refusing to start
// on a set that does not parse or whose tests fail), evaluates streamed inputs on a worker,
// runs the scheduled policies on an interval, and reloads when the files change. A refused
// reload is logged and reported by status(); the previous set keeps running.
import { watch, type FSWatcher } from 'node:fs';
import type { Registry } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import { loadPolicySet, PolicyLoadError, type PolicySet } from './policy-set.js';
import { FindingRecorder, type ViolationSink } from './recorder.js';
import { ScheduledPolicies, type ScheduledRun } from './scheduled.js';
import { DEFAULT_STREAM_OPTIONS, StreamPolicies, type StreamOptions, type StreamStats } from './stream.js';
import type { Finding, RecoveryInput, StreamedInput } from './types.js';

export interface PolicyServiceOptions {
  dir: string;
  /** Scheduled run interval; 0 runs them only on demand. */
  intervalMs: number;
  stream?: Partial<StreamOptions>;
  /** Watch the directory and reload on change (default true). */
  watch?: boolean;
  /** Told the evaluation time of every streamed input and every scheduled run (self-metrics). */
  onEvaluated?: (mode: 'stream' | 'scheduled', ms: number) => void;
}

/** What GET /api/v1/policies answers. */
export interface PolicyStatus {
  dir: string;
  version: string;
  loaded_at: string;
  entry_points: { package: string; evaluated_on: string[] }[];
  tests: { passed: number; total: number };
  /** The last reload that was refused, if it came after the current set. */
  refused: { at: string; reason: string } | null;
  stream: StreamStats & { budget_ms: number };
  scheduled: { interval_ms: number; last_run: { at: string; findings: number; failures: number; resolved: number; ms: number } | null };
}

/** Debounce for bursts of file events (an editor writes a file in several steps). */
const RELOAD_DEBOUNCE_MS = 200;

export class PolicyService {
  readonly stream: StreamPolicies;
  readonly scheduled: ScheduledPolicies;
  private set: PolicySet;
  private refused: { at: string; reason: string } | null = null;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readonly streamOpts: StreamOptions;

  private constructor(
    private readonly opts: PolicyServiceOptions,
    set: PolicySet,
    registry: Registry,
    store: Store,
    sink: ViolationSink,
    private readonly log: Logger,
  ) {
    this.set = set;
    const recorder = new FindingRecorder(registry, sink, log);
    this.streamOpts = { ...DEFAULT_STREAM_OPTIONS, ...opts.stream };
    this.stream = new StreamPolicies(registry, recorder, log, this.streamOpts, opts.onEvaluated && ((ms) => opts.onEvaluated!('stream', ms)));
    this.scheduled = new ScheduledPolicies(store, registry, recorder, log, opts.onEvaluated && ((ms) => opts.onEvaluated!('scheduled', ms)));
  }

  /** Load the policies and start evaluating; throws PolicyLoadError if the set is refused. */
  static async start(opts: PolicyServiceOptions, registry: Registry, store: Store, sink: ViolationSink, log: Logger): Promise<PolicyService> {
    const set = loadPolicySet(opts.dir);
    const svc = new PolicyService(opts, set, registry, store, sink, log);
    await svc.stream.load(set);
    if (opts.intervalMs > 0) svc.scheduled.start(opts.intervalMs, () => svc.set);
    if (opts.watch !== false) svc.watchDir();
    log.info({ dir: opts.dir, version: set.version, entryPoints: set.entryPoints.map((e) => e.pkg), tests: set.tests.total }, 'policies loaded');
    return svc;
  }

  /** The streamed stage ingest hands its inputs to. */
  submit(inputs: readonly StreamedInput[]): Promise<void> {
    return this.stream.submit(inputs);
  }

  /** Resolves once every streamed input submitted so far is evaluated and recorded. */
  drain(): Promise<void> {
    return this.stream.drain();
  }

  /** What the current policies find in a recovery input (the recovery report's findings). */
  judgeRecovery(input: RecoveryInput): Finding[] {
    return this.scheduled.judgeRecovery(this.set, input);
  }

  /** Run the scheduled policies now and record the outcome. */
  runScheduled(nowMs?: number): Promise<ScheduledRun> {
    return this.scheduled.run(this.set, { nowMs });
  }

  /** Re-read the directory; a refused set is reported and the current one kept. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      let next: PolicySet;
      try {
        next = loadPolicySet(this.opts.dir);
      } catch (e) {
        const reason = e instanceof PolicyLoadError ? e.reason : (e as Error).message;
        this.refused = { at: new Date().toISOString(), reason };
        this.log.error({ dir: this.opts.dir, reason, keeping: this.set.version }, 'policy reload refused; the previous policies keep running');
        return;
      }
      if (next.version === this.set.version) {
        this.refused = null;
        return;
      }
      try {
        await this.stream.load(next);
      } catch (e) {
        this.refused = { at: new Date().toISOString(), reason: (e as Error).message };
        return;
      }
      this.set = next;
      this.refused = null;
      this.log.info({ dir: this.opts.dir, version: next.version }, 'policies reloaded');
    });
    return this.reloading;
  }

  status(): PolicyStatus {
    const last = this.scheduled.last;
    return {
      dir: this.opts.dir,
      version: this.set.version,
      loaded_at: this.set.loadedAt,
      entry_points: this.set.entryPoints.map((e) => ({ package: e.pkg, evaluated_on: e.evaluatedOn })),
      tests: this.set.tests,
      refused: this.refused,
      stream: { ...this.stream.stats, budget_ms: this.streamOpts.budgetMs },
      scheduled: {
        interval_ms: this.opts.intervalMs,
        last_run: last ? { at: last.at, findings: last.findings.length, failures: last.failures.length, resolved: last.resolved.length, ms: Math.round(last.ms) } : null,
      },
    };
  }

  /** Stop watching and scheduling; evaluate what is queued. */
  async close(): Promise<void> {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    await this.scheduled.stop();
    await this.reloading;
    await this.stream.close();
  }

  private watchDir(): void {
    try {
      this.watcher = watch(this.opts.dir, { recursive: true }, (_event, name) => {
        if (name && !String(name).endsWith('.rego')) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), RELOAD_DEBOUNCE_MS);
      });
      this.watcher.unref();
    } catch (e) {
      this.log.warn({ dir: this.opts.dir, err: (e as Error).message }, 'cannot watch the policy directory; reload with SIGHUP');
    }
  }
}

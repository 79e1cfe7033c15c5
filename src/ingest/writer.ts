// Batches rows from many concurrent requests into few large inserts per table, and settles
// each request's promise only once its rows are stored: an OTLP request is acknowledged
// after its data is durable, never before. ClickHouse prefers few large inserts over many
// small ones (each insert makes a part), so rows wait up to `lingerMs` for company.
import type { Store, TableName } from '../store/types.js';
import type { Logger } from '../log.js';

export interface WriterOptions {
  /** Flush a table once this many rows wait. */
  maxRows: number;
  /** Flush a table once this many bytes wait. */
  maxBytes: number;
  /** Longest a row waits for others before its table is flushed. */
  lingerMs: number;
}

export const DEFAULT_WRITER_OPTIONS: WriterOptions = { maxRows: 50_000, maxBytes: 8 * 1024 * 1024, lingerMs: 20 };

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Pending {
  chunks: string[];
  rows: number;
  bytes: number;
  waiters: Waiter[];
}

interface TableQueue {
  pending: Pending;
  inFlight: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Observations the writer reports (batch sizes, insert latency), for self-metrics. */
export interface WriterObserver {
  onFlush?(table: TableName, rows: number, bytes: number, ms: number, error?: unknown): void;
}

function emptyPending(): Pending {
  return { chunks: [], rows: 0, bytes: 0, waiters: [] };
}

export class BatchWriter {
  private readonly queues = new Map<TableName, TableQueue>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: WriterOptions = DEFAULT_WRITER_OPTIONS,
    private readonly observer: WriterObserver = {},
  ) {}

  /** Queue JSONEachRow text for `table`; resolves once it is stored, rejects if the insert fails. */
  write(table: TableName, text: string, rows: number): Promise<void> {
    if (rows === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('writer is closed'));
    let q = this.queues.get(table);
    if (!q) this.queues.set(table, (q = { pending: emptyPending(), inFlight: undefined, timer: undefined }));
    const p = q.pending;
    p.chunks.push(text);
    p.rows += rows;
    p.bytes += text.length;
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (p.rows >= this.opts.maxRows || p.bytes >= this.opts.maxBytes) this.kick(table, q);
    else if (!q.timer && !q.inFlight) q.timer = setTimeout(() => this.kick(table, q), this.opts.lingerMs);
    return done;
  }

  /** Rows waiting or being inserted, per table (queue depth). */
  depth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, q] of this.queues) out[t] = q.pending.rows;
    return out;
  }

  // One insert in flight per table; rows arriving meanwhile form the next batch.
  private kick(table: TableName, q: TableQueue): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    if (q.inFlight || q.pending.rows === 0) return;
    const batch = q.pending;
    q.pending = emptyPending();
    q.inFlight = this.flush(table, batch).finally(() => {
      q.inFlight = undefined;
      if (q.pending.rows > 0) {
        if (q.pending.rows >= this.opts.maxRows || q.pending.bytes >= this.opts.maxBytes || this.closed) this.kick(table, q);
        else q.timer = setTimeout(() => this.kick(table, q), this.opts.lingerMs);
      }
    });
  }

  private async flush(table: TableName, batch: Pending): Promise<void> {
    const started = performance.now();
    const body = Buffer.from(batch.chunks.join(''), 'utf8');
    try {
      await this.store.insertJsonEachRow(table, body, batch.rows);
      this.observer.onFlush?.(table, batch.rows, body.length, performance.now() - started);
      for (const w of batch.waiters) w.resolve();
    } catch (e) {
      this.observer.onFlush?.(table, batch.rows, body.length, performance.now() - started, e);
      this.log.error({ table, rows: batch.rows, err: e instanceof Error ? e.message : String(e) }, 'insert failed');
      for (const w of batch.waiters) w.reject(e);
    }
  }

  /** Flush everything queued and wait for it; later writes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [table, q] of this.queues) this.kick(table, q);
    for (;;) {
      const flying = [...this.queues.values()].map((q) => q.inFlight).filter((p): p is Promise<void> => !!p);
      if (flying.length === 0) break;
      await Promise.allSettled(flying);
    }
  }
}

// Takes a checkpoint of the audit chain every interval while the server runs (checkpoint.ts
// says what one is), one at a time, each against the one before it.
//
// Every checkpoint goes to `<data-dir>/checkpoints` and, with an outside directory, there too.
// A write that fails is logged and is not fatal: the next interval takes a new checkpoint, and
// copies missing from the outside directory (this node's files in the data dir that are not
// there, also from before a restart) are written again, newest first.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTenantscopeError, tsError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/types.js';
import type { EvidenceSigner } from '../../reports/evidence-sign.js';
import { checkpointFileName, checkpointJson, checkpointsDir, isCheckpointFileName, readCheckpoints, takeCheckpoint, writeCheckpointText, type Checkpoint, type CheckpointReading } from './checkpoint.js';

/** Default time between checkpoints. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10 * 60_000;

/** Most missing outside copies written again per checkpoint, so a long backlog cannot stall one. */
const COPIES_PER_RUN = 100;

export interface CheckpointerOptions {
  store: Store;
  signer: EvidenceSigner;
  nodeId: string;
  dataDir: string;
  /** A directory outside the data dir (another disk, a mounted bucket); it must exist. */
  outsideDir?: string;
  /** Time between checkpoints; 0: none on a timer (only `take()` and the one at shutdown). */
  intervalMs: number;
  log: Logger;
  /** Called with the error code of every failed checkpoint or write (for the error counter). */
  onError?: (code: string) => void;
}

/** Where one checkpoint went. */
export interface WrittenCheckpoint {
  file: string;
  time: string;
  tenants: number;
  segments: number;
  /** Paths written (the data dir's, the outside dir's). */
  written: string[];
  /** Directories it could not be written to, with why. */
  failed: Array<{ dir: string; error: string }>;
}

export class Checkpointer {
  private previous: Checkpoint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Runs taken or waiting; an interval that finds one skips its turn (a slow store must not pile them up). */
  private pending = 0;
  /** Names of this node's checkpoints in the data dir that the outside dir lacks. */
  private readonly missingOutside = new Set<string>();
  private readonly ownDir: string;

  constructor(private readonly opts: CheckpointerOptions) {
    this.ownDir = checkpointsDir(opts.dataDir);
  }

  /**
   * Pick up the latest checkpoint as the base of the next one, note copies missing from the
   * outside dir, and take a checkpoint every interval from now on.
   */
  start(): void {
    const { log, intervalMs, outsideDir } = this.opts;
    try {
      mkdirSync(this.ownDir, { recursive: true });
    } catch (e) {
      // Not fatal, like any failed write: each run tries the directory again and says so.
      this.opts.onError?.('TS_ERR_CHECKPOINT');
      log.error({ code: 'TS_ERR_CHECKPOINT', dir: this.ownDir, errno: (e as NodeJS.ErrnoException).code, err: (e as Error).message }, 'checkpoint directory cannot be made');
    }
    const reading = this.read();
    for (const r of reading.refused) log.warn({ file: r.file, source: r.source, reason: r.reason, detail: r.message }, 'checkpoint refused: not trusted');
    this.previous = reading.latest?.checkpoint;
    if (outsideDir) this.noteMissingOutside(outsideDir);
    log.info({ dir: this.ownDir, outsideDir, intervalMs, previous: reading.latest?.file }, 'audit chain checkpoints');
    if (intervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.pending === 0) void this.take().catch(() => undefined);
      }, intervalMs);
      this.timer.unref();
    }
  }

  /** The checkpoints as `audit verify` reads them: the data dir's and the outside dir's, against this node's key. */
  read(): CheckpointReading {
    return readCheckpoints(this.opts.dataDir, this.opts.outsideDir, this.opts.signer.publicKeyPem);
  }

  /** Take, sign and write a checkpoint now (after one already running); rejects when it was written nowhere. */
  take(): Promise<WrittenCheckpoint> {
    this.pending++;
    const run = this.queue.then(() => this.run()).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Stop taking checkpoints; with `final`, take one last one. Clean shutdown takes one because
   * the events since the last interval would otherwise be covered by none while the server is
   * stopped, which is when the data directory is easiest to change (and the next start would
   * continue from a shortened head without a word).
   */
  async stop(final: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (final) await this.take().catch(() => undefined);
    else await this.queue;
  }

  private async run(): Promise<WrittenCheckpoint> {
    const { store, signer, nodeId, outsideDir, log } = this.opts;
    let taken;
    try {
      taken = await takeCheckpoint(store, signer, nodeId, this.previous);
    } catch (e) {
      const code = isTenantscopeError(e) ? e.code : 'TS_ERR_STORE';
      this.opts.onError?.(code);
      log.error({ code, err: (e as Error).message }, 'checkpoint not taken; trying again next interval');
      throw e;
    }
    const cp = taken.checkpoint;
    this.previous = cp;
    for (const { tenant, truncated: t } of taken.truncated) {
      log.error(
        { tenant, segment: t.segment_id, reason: t.reason, fromSeq: t.from_seq, toSeq: t.to_seq, checkpointedAt: t.checkpointed_at, storedHeadSeq: t.stored_head_seq },
        'audit chain segment lost events up to a checkpointed head; that head stays in every later checkpoint',
      );
    }
    const name = checkpointFileName(cp.checkpoint);
    const text = checkpointJson(cp);
    const segments = Object.values(cp.checkpoint.tenants).reduce((a, s) => a + s.length, 0);
    const result: WrittenCheckpoint = { file: name, time: cp.checkpoint.time, tenants: Object.keys(cp.checkpoint.tenants).length, segments, written: [], failed: [] };
    const attempt = (dir: string, body: string, fileName: string): boolean => {
      try {
        result.written.push(writeCheckpointText(fileName, body, dir));
        return true;
      } catch (e) {
        const code = isTenantscopeError(e) ? e.code : 'TS_ERR_CHECKPOINT';
        this.opts.onError?.(code);
        result.failed.push({ dir, error: (e as Error).message });
        log.error({ code, file: fileName, dir, errno: isTenantscopeError(e) ? e.context.errno : undefined, err: (e as Error).message }, 'checkpoint not written; trying again next interval');
        return false;
      }
    };
    const own = attempt(this.ownDir, text, name);
    if (outsideDir) {
      // While the outside dir takes nothing, earlier copies are not tried either.
      if (attempt(outsideDir, text, name)) this.copyMissingOutside(outsideDir);
      else if (own) this.missingOutside.add(name);
    }
    if (result.written.length === 0) throw tsError('TS_ERR_CHECKPOINT', [name, 'any directory', result.failed.map((f) => f.error).join('; ')], { file: name });
    log.info({ file: name, tenants: result.tenants, segments, written: result.written, truncated: taken.truncated.length }, 'checkpoint written');
    return result;
  }

  /** This node's checkpoints in the data dir that the outside dir lacks (from earlier failures, or before it was configured). */
  private noteMissingOutside(outsideDir: string): void {
    try {
      const there = new Set(readdirSync(outsideDir));
      for (const name of readdirSync(this.ownDir)) if (isCheckpointFileName(name) && name.endsWith(`-${this.opts.nodeId}.json`) && !there.has(name)) this.missingOutside.add(name);
    } catch (e) {
      this.opts.onError?.('TS_ERR_CHECKPOINT');
      this.opts.log.error({ code: 'TS_ERR_CHECKPOINT', dir: outsideDir, errno: (e as NodeJS.ErrnoException).code, err: (e as Error).message }, 'checkpoint directory cannot be listed; checkpoints are written there once it can be');
    }
  }

  /** Write missing outside copies again from the data dir, newest first, a bounded number per run. */
  private copyMissingOutside(outsideDir: string): void {
    let copied = 0;
    for (const name of [...this.missingOutside].sort().reverse().slice(0, COPIES_PER_RUN)) {
      let text: string;
      try {
        text = readFileSync(join(this.ownDir, name), 'utf8');
      } catch {
        // Gone from the data dir as well: nothing left to copy.
        this.missingOutside.delete(name);
        continue;
      }
      try {
        writeCheckpointText(name, text, outsideDir);
      } catch (e) {
        this.opts.log.warn({ code: 'TS_ERR_CHECKPOINT', file: name, dir: outsideDir, err: (e as Error).message }, 'earlier checkpoint still not copied to the checkpoint directory');
        break;
      }
      this.missingOutside.delete(name);
      copied++;
    }
    if (copied > 0) this.opts.log.info({ dir: outsideDir, copied, left: this.missingOutside.size }, 'earlier checkpoints copied to the checkpoint directory');
  }
}

// The global memory limit: a request is refused with 503 (and a retry time) before it is
// decoded when the process is near its memory limit, or when the request bodies already being
// worked on add up to the in-flight limit. Decoding multiplies a body several times over in
// objects, so this is the last point where refusing is cheap; past it, the process would be
// at risk rather than the request.
import { tsError } from '../errors.js';

export interface MemoryLimits {
  /** Resident set size above which new requests are refused. */
  maxRssBytes: number;
  /** Request bodies worked on at once, in bytes; one body alone is always let through. */
  maxInflightBytes: number;
}

/** Bounds ingest memory; `admit` before decoding, call the release it returns when done. */
export class MemoryGuard {
  private inflight = 0;

  constructor(
    private readonly limits: MemoryLimits,
    private readonly rss: () => number = cachedRss(),
  ) {}

  /** Admit a body of `bytes`, or throw TS_ERR_OVERLOADED (503). */
  admit(bytes: number): () => void {
    const rss = this.rss();
    if (rss > this.limits.maxRssBytes) {
      throw tsError('TS_ERR_OVERLOADED', [`resident memory ${mib(rss)} MiB over ${mib(this.limits.maxRssBytes)} MiB`, 1], { retryAfterSeconds: 1 });
    }
    if (this.inflight > 0 && this.inflight + bytes > this.limits.maxInflightBytes) {
      throw tsError('TS_ERR_OVERLOADED', [`${mib(this.inflight)} MiB of requests in progress, limit ${mib(this.limits.maxInflightBytes)} MiB`, 1], { retryAfterSeconds: 1 });
    }
    this.inflight += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inflight -= bytes;
    };
  }

  /** Bytes of request bodies in progress. */
  inflightBytes(): number {
    return this.inflight;
  }
}

function mib(n: number): number {
  return Math.round(n / 1048576);
}

/** Resident memory read at most every 20 ms: reading it costs a system call and a /proc read (about 0.2 ms), and requests come far more often. */
function cachedRss(): () => number {
  let at = -Infinity;
  let value = 0;
  return () => {
    const now = performance.now();
    if (now - at >= 20) {
      value = process.memoryUsage.rss();
      at = now;
    }
    return value;
  };
}

// Lowers the CPU priority of the embedded engine's background merge threads. chDB runs
// ClickHouse's merges inside the tenantscope process, and on a small machine they take as much
// CPU as ingest itself: many small inserts make many parts to merge. Merges can wait a little;
// acknowledgements should not queue behind them. Linux takes a thread id where a process id
// is expected in setpriority(2), so each merge thread is reniced on its own; ClickHouse starts
// pool threads on demand, so the threads are looked up again on an interval. Elsewhere (no
// /proc) this does nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface BackgroundPriority {
  /** Threads reniced so far. */
  reniced(): number;
  stop(): void;
}

/** How far merges step back by default: CFS gives a nice-10 thread about a tenth of a nice-0 one's share. */
export const DEFAULT_MERGE_NICE = 10;

/** Threads whose name starts with one of these are ClickHouse's merge and mutation pools. */
export const MERGE_THREAD_PREFIXES = ['MergeMutate', 'Move', 'Fetch', 'Common'];

/** Renice this process's background merge threads to `nice` now and every `intervalMs`. */
export function lowerMergePriority(opts: { nice?: number; intervalMs?: number; prefixes?: string[] } = {}): BackgroundPriority {
  const nice = opts.nice ?? DEFAULT_MERGE_NICE;
  const prefixes = opts.prefixes ?? MERGE_THREAD_PREFIXES;
  let count = 0;
  const sweep = () => {
    let tids: string[];
    try {
      tids = readdirSync('/proc/self/task');
    } catch {
      return;
    }
    for (const t of tids) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      } catch {
        continue; // the thread ended
      }
      // Fields after the parenthesised name: state is the first, nice the 17th.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!prefixes.some((p) => name.startsWith(p))) continue;
      if (Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16]) === nice) continue;
      try {
        setPriority(Number(t), nice);
        count++;
      } catch {
        // the thread ended between the listing and the call
      }
    }
  };
  sweep();
  const timer = setInterval(sweep, opts.intervalMs ?? 2000);
  timer.unref();
  return { reniced: () => count, stop: () => clearInterval(timer) };
}

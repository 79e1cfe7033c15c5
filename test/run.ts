// Runs every compiled test file (dist/test/**/*.test.js) in its own Node process and ends with
// the line `N passed, M failed`. One process per file because chDB binds one data directory
// per process: each file gets its own store without waiting for another to close.
// uvu's own CLI runs all files in one process and has no closing line of that form, hence
// this small runner. Usage: node dist/test/run.js [filter ...] (substring match on paths).
// A file whose source says `// runs-on: single, cluster` runs twice, the second time with
// TENANTSCOPE_TEST_TOPOLOGY=cluster (see test/support/topology.ts). A file whose source says
// `// runner-timeout-minutes: N` may run that long (at least the usual limit): for files that
// wait on real timers of another program (Alertmanager's group_wait, Prometheus's `for`).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const DIST_TEST = fileURLToPath(new URL('.', import.meta.url));
const FILE_TIMEOUT_MS = Number(process.env.TENANTSCOPE_TEST_FILE_TIMEOUT_MS ?? 300_000);

interface Job {
  file: string;
  timeoutMs: number;
  /** Shown after the file name; also the value of TENANTSCOPE_TEST_TOPOLOGY when set. */
  topology?: 'cluster';
}

interface FileResult {
  file: string;
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  ms: number;
  code: number | null;
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// uvu prints `Total: N`, `Passed: N`, `Skipped: N` after each file it runs.
function parseCounts(text: string): { total: number; passed: number; skipped: number } | undefined {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const total = [...plain.matchAll(/Total:\s+(\d+)/g)].map((m) => Number(m[1]));
  const passed = [...plain.matchAll(/Passed:\s+(\d+)/g)].map((m) => Number(m[1]));
  const skipped = [...plain.matchAll(/Skipped:\s+(\d+)/g)].map((m) => Number(m[1]));
  if (total.length === 0) return undefined;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { total: sum(total), passed: sum(passed), skipped: sum(skipped) };
}

function jobsFor(file: string): Job[] {
  const source = readFileSync(file, 'utf8');
  const cluster = /^\/\/ runs-on: .*\bcluster\b/m.test(source);
  const minutes = /^\/\/ runner-timeout-minutes: (\d+)\s*$/m.exec(source)?.[1];
  const timeoutMs = Math.max(FILE_TIMEOUT_MS, Number(minutes ?? 0) * 60_000);
  return cluster ? [{ file, timeoutMs }, { file, timeoutMs, topology: 'cluster' }] : [{ file, timeoutMs }];
}

function runFile(job: Job): Promise<FileResult> {
  const { file } = job;
  const name = relative(DIST_TEST, file) + (job.topology ? ` [${job.topology}]` : '');
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, TENANTSCOPE_TEST: '1', ...(job.topology ? { TENANTSCOPE_TEST_TOPOLOGY: job.topology } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[runner] ${name} exceeded ${job.timeoutMs} ms and was killed\n`;
      child.kill('SIGKILL');
    }, job.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const counts = parseCounts(output);
      let passed = counts?.passed ?? 0;
      const skipped = counts?.skipped ?? 0;
      // uvu's Total counts the tests that ran; skipped ones are reported apart.
      let failed = counts ? Math.max(0, counts.total - counts.passed) : 0;
      // A file that crashed, hung or exited non-zero without a failing test still fails once.
      if (code !== 0 && failed === 0) {
        failed = 1;
        if (!counts) passed = 0;
      }
      resolveRun({ file, name, passed, failed, skipped, output, ms: Date.now() - started, code });
    });
  });
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = findTests(DIST_TEST).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  const jobs = files.flatMap(jobsFor);
  const parallel = Math.max(1, Math.min(Number(process.env.TENANTSCOPE_TEST_JOBS ?? availableParallelism()), 4));
  const results: FileResult[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < jobs.length) {
      const r = await runFile(jobs[next++]!);
      results.push(r);
      process.stdout.write(`\n=== ${r.name} (${(r.ms / 1000).toFixed(1)} s, exit ${r.code})\n${r.output}`);
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  const skipped = results.reduce((a, r) => a + r.skipped, 0);
  const bad = results.filter((r) => r.failed > 0).map((r) => r.name);
  process.stdout.write(`\n${files.length} test files${bad.length ? `; failing: ${bad.join(', ')}` : ''}\n`);
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
}

void main();

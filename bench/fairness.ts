// Fairness under a flood: five tenants send at their normal rate (1) alone, (2) while a sixth
// sends at its quota, (3) while the sixth sends at ten times its quota. Prints the normal
// tenants' ingest latency (p50, p95, p99) in each run, batches lost, and what the sixth
// tenant got through against its quota. The bound compares (3) with (2): whatever the sixth
// tenant sends within its quota is load the platform has agreed to carry, so what the flood
// must not cost the others is its excess. (1) shows what the sixth tenant's allowed load
// itself costs. Each run gets a fresh server in its own process (demo registry, quotas and
// policies on), so the client's own work does not share the server's event loop, and the
// sixth tenant sends from a process of its own (bench/fairness-sender.ts), as a separate
// service would: a flood from the very process that times the others would slow their
// timing in the client, not in tenantscope.
//
// Latency on a shared VM moves between runs by more than the effect measured, so the three
// runs are repeated in alternating rounds and the medians of their percentiles compared.
//
// Each tenant's requests start at a phase of their own (test/support/fairness-load.ts), as
// independent services' do. `--lockstep` starts every stream at the same instant instead:
// the in-quota sixth tenant's requests then share every insert with the other five, which
// its admitted requests under a flood cannot, so that comparison measures the lockstep.
//
//   npm run bench:fairness [-- --seconds 15 --rounds 3 --factor 10 --rate 10 --merge-nice 10 --lockstep]
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { serveCli, stopCli } from '../test/support/cli.js';
import { DEMO_CONFIG } from '../test/support/server.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fromRoot } from '../src/paths.js';
import { MERGE_THREAD_PREFIXES } from '../src/store/merge-priority.js';
import { quantile, runStreams, type Stream, type StreamResult } from '../test/support/fairness-load.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    factor: { type: 'string', default: '10' },
    rate: { type: 'string', default: '10' }, // requests/s of each normal tenant
    'merge-nice': { type: 'string', default: '10' }, // the server's --merge-nice (0: merges compete with ingest)
    lockstep: { type: 'boolean', default: false }, // every stream starts at the same instant
  },
});
const SECONDS = Number(values.seconds);
const PHASE = values.lockstep ? { phase: 0 } : {};
const FACTOR = Number(values.factor);
const ROUNDS = Number(values.rounds);
const QUOTA = 2000; // initech-retail's records/s in the demo registry
const FLOOD_SPANS = 200;
const FLOOD: Stream = { token: 'demo-ingest-initech-retail', rate: (QUOTA * FACTOR) / FLOOD_SPANS, spansPerRequest: FLOOD_SPANS, ...PHASE };
const NORMAL: Stream[] = ['acme-dist', 'hooli-wholesale', 'stark-logistics', 'umbrella-pharma', 'globex-3pl'].map((t) => ({
  token: `demo-ingest-${t}`,
  rate: Number(values.rate),
  spansPerRequest: 100,
  ...PHASE,
}));

const AT_QUOTA: Stream = { ...FLOOD, rate: QUOTA / FLOOD_SPANS };

interface Run {
  normal: StreamResult[];
  flood?: StreamResult;
  rssMiB: number;
  /** CPU seconds during the timed run: the server, its merge threads, the sixth tenant's sender. */
  cpu: { total: number; merges: number; sender: number };
}

async function run(sixth?: Stream): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-bench-fair-'));
  const server = await serveCli(['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0', '--merge-nice', values['merge-nice']!]);
  let rss = 0;
  const sampler = setInterval(() => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'));
    rss = Math.max(rss, Number(m?.[1] ?? 0) / 1024);
  }, 250);
  try {
    // A short warm-up so both runs measure a server past its first requests.
    await runStreams(server.otlpHttpUrl, NORMAL.map((s) => ({ ...s, rate: 5 })), 2000);
    const sender = sixth ? await startSender(server.otlpHttpUrl, sixth) : undefined;
    const cpu0 = serverCpu(server.child.pid!);
    const normal = await runStreams(server.otlpHttpUrl, NORMAL, SECONDS * 1000, { ready: async () => sender?.go() });
    const cpu1 = serverCpu(server.child.pid!);
    const flood = await sender?.result;
    return { normal, flood: flood?.result, rssMiB: rss, cpu: { total: cpu1.total - cpu0.total, merges: cpu1.merges - cpu0.merges, sender: flood?.cpuSeconds ?? 0 } };
  } finally {
    clearInterval(sampler);
    await stopCli(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What bench/fairness-sender.ts prints. */
interface SenderResult {
  result: StreamResult;
  cpuSeconds: number;
}

/** The sixth tenant's sender in its own process; resolves once it has built its requests. */
async function startSender(url: string, s: Stream): Promise<{ go: () => void; result: Promise<SenderResult> }> {
  const child = spawn(process.execPath, [fromRoot('dist', 'bench', 'fairness-sender.js'), url, s.token, String(s.rate), String(s.spansPerRequest), String(SECONDS), ...(s.phase === undefined ? [] : [String(s.phase)])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const result = new Promise<SenderResult>((resolve, reject) => {
    lines.on('line', (l) => (l === 'ready' ? ready() : resolve(JSON.parse(l) as SenderResult)));
    child.on('exit', (code) => code !== 0 && reject(new Error(`sender exited ${code}`)));
  });
  await isReady;
  return { go: () => child.stdin!.write('go\n'), result };
}

// CPU seconds the server has used, in all and in the engine's merge threads (Linux /proc;
// a thread that ended between two readings takes its seconds with it, so merges is a floor).
function serverCpu(pid: number): { total: number; merges: number } {
  const ticks = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  let merges = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      if (MERGE_THREAD_PREFIXES.some((p) => stat.slice(stat.indexOf('(') + 1).startsWith(p))) merges += ticks(stat);
    } catch {
      // the thread ended
    }
  }
  return { total: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')), merges };
}

function summary(r: Run): { p50: number; p95: number; p99: number; lost: number; sent: number } {
  const lat = r.normal.flatMap((s) => s.latencies);
  const sent = r.normal.reduce((a, s) => a + s.sent, 0);
  const accepted = r.normal.reduce((a, s) => a + s.accepted, 0);
  return { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), p99: quantile(lat, 0.99), lost: sent - accepted, sent };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const cores = (seconds: number) => `${(seconds / SECONDS).toFixed(2)} cores`;

console.log(`server --merge-nice ${values['merge-nice']}; streams ${values.lockstep ? 'in lockstep' : 'each at its own phase'}`);
console.log(`fairness: 5 tenants x ${NORMAL[0]!.rate} req/s x ${NORMAL[0]!.spansPerRequest} spans for ${SECONDS} s; flood: initech-retail at ${FACTOR}x its ${QUOTA} records/s quota`);
const configs: Array<[string, Stream | undefined]> = [
  ['five tenants alone', undefined],
  ['sixth at its quota', AT_QUOTA],
  [`sixth at ${FACTOR}x quota`, FLOOD],
];
const runs: Run[][] = configs.map(() => []);
for (let round = 1; round <= ROUNDS; round++) {
  for (let c = 0; c < configs.length; c++) {
    const r = await run(configs[c]![1]);
    runs[c]!.push(r);
    const x = summary(r);
    console.log(`  round ${round}, ${configs[c]![0].padEnd(20)} p50 ${ms(x.p50).padEnd(9)} p95 ${ms(x.p95).padEnd(9)} p99 ${ms(x.p99).padEnd(9)} lost ${x.lost}/${x.sent}  CPU: server ${cores(r.cpu.total)} (merges ${cores(r.cpu.merges)}), sender ${cores(r.cpu.sender)}`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = runs.map((rs) => {
  const xs = rs.map(summary);
  return { p50: median(xs.map((x) => x.p50)), p95: median(xs.map((x) => x.p95)), p99: median(xs.map((x) => x.p99)), lost: xs.reduce((a, x) => a + x.lost, 0), sent: xs.reduce((a, x) => a + x.sent, 0), rss: Math.max(...rs.map((r) => r.rssMiB)) };
});
console.log('');
console.log(`medians over ${ROUNDS} rounds        p50        p95        p99        batches lost   server RSS peak`);
configs.forEach(([title], c) => {
  const x = med[c]!;
  console.log(`  ${title.padEnd(30)} ${ms(x.p50).padEnd(10)} ${ms(x.p95).padEnd(10)} ${ms(x.p99).padEnd(10)} ${`${x.lost}/${x.sent}`.padEnd(14)} ${x.rss.toFixed(0)} MiB`);
});
console.log(`  p99 with the flood / with the sixth at its quota: ${(med[2]!.p99 / med[1]!.p99).toFixed(2)}x (bound 1.5x); / five alone: ${(med[2]!.p99 / med[0]!.p99).toFixed(2)}x`);
for (const c of [1, 2]) {
  const fl = runs[c]!.at(-1)!.flood!;
  console.log(
    `  sixth tenant, ${configs[c]![0].replace('sixth ', '')} (last round): ${fl.sent} requests (${((fl.sent * FLOOD_SPANS) / SECONDS).toFixed(0)} spans/s), ${fl.accepted} accepted (${(fl.acceptedSpans / SECONDS).toFixed(0)} spans/s; quota ${QUOTA}/s plus ${2 * QUOTA} of burst), ${fl.refused} refused with 429${fl.retryAfter.length ? ` (Retry-After ${Math.min(...fl.retryAfter)}-${Math.max(...fl.retryAfter)} s)` : ''}, ${fl.failed} other`,
  );
}

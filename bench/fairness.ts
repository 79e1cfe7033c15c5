// Fairness under a flood: five tenants send at their normal rate (1) alone, (2) while a sixth
// sends at its quota, (3) while the sixth sends at ten times its quota. Prints the normal
// tenants' ingest latency (p50, p95, p99) in each run, batches lost, and what the sixth
// tenant got through against its quota. The bound compares (3) with (2): whatever the sixth
// tenant sends within its quota is load the platform has agreed to carry, so what the flood
// must not cost the others is its excess. (1) shows what the sixth tenant's allowed load
// itself costs. Each run gets a fresh server in its own process (demo registry, quotas and
// policies on), so the client's own work does not share the server's event loop.
//
//   npm run bench:fairness [-- --seconds 20 --factor 10]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { serveCli, stopCli } from '../test/support/cli.js';
import { DEMO_CONFIG } from '../test/support/server.js';
import { quantile, runStreams, type Stream, type StreamResult } from '../test/support/fairness-load.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '20' }, factor: { type: 'string', default: '10' } },
});
const SECONDS = Number(values.seconds);
const FACTOR = Number(values.factor);
const QUOTA = 2000; // initech-retail's records/s in the demo registry
const FLOOD_SPANS = 200;
const FLOOD: Stream = { token: 'demo-ingest-initech-retail', rate: (QUOTA * FACTOR) / FLOOD_SPANS, spansPerRequest: FLOOD_SPANS };
const NORMAL: Stream[] = ['acme-dist', 'hooli-wholesale', 'stark-logistics', 'umbrella-pharma', 'globex-3pl'].map((t) => ({
  token: `demo-ingest-${t}`,
  rate: 10,
  spansPerRequest: 100,
}));

const AT_QUOTA: Stream = { ...FLOOD, rate: QUOTA / FLOOD_SPANS };

interface Run {
  normal: StreamResult[];
  flood?: StreamResult;
  rssMiB: number;
}

async function run(sixth?: Stream): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-bench-fair-'));
  const server = await serveCli(['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0']);
  let rss = 0;
  const sampler = setInterval(() => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'));
    rss = Math.max(rss, Number(m?.[1] ?? 0) / 1024);
  }, 250);
  try {
    // A short warm-up so both runs measure a server past its first requests.
    await runStreams(server.otlpHttpUrl, NORMAL.map((s) => ({ ...s, rate: 5 })), 2000);
    const results = await runStreams(server.otlpHttpUrl, sixth ? [...NORMAL, sixth] : NORMAL, SECONDS * 1000);
    return { normal: results.slice(0, NORMAL.length), flood: sixth ? results[NORMAL.length] : undefined, rssMiB: rss };
  } finally {
    clearInterval(sampler);
    await stopCli(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function summary(r: Run): { p50: number; p95: number; p99: number; lost: number; sent: number } {
  const lat = r.normal.flatMap((s) => s.latencies);
  const sent = r.normal.reduce((a, s) => a + s.sent, 0);
  const accepted = r.normal.reduce((a, s) => a + s.accepted, 0);
  return { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), p99: quantile(lat, 0.99), lost: sent - accepted, sent };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

console.log(`fairness: 5 tenants x ${NORMAL[0]!.rate} req/s x ${NORMAL[0]!.spansPerRequest} spans for ${SECONDS} s; flood: initech-retail at ${FACTOR}x its ${QUOTA} records/s quota`);
const alone = await run();
const atQuota = await run(AT_QUOTA);
const flooded = await run(FLOOD);
const rows: Array<[string, Run]> = [
  ['five tenants alone', alone],
  ['sixth at its quota', atQuota],
  [`sixth at ${FACTOR}x quota`, flooded],
];
console.log('');
console.log('                          p50        p95        p99        batches lost   server RSS peak');
for (const [title, r] of rows) {
  const x = summary(r);
  console.log(`  ${title.padEnd(22)}  ${ms(x.p50).padEnd(10)} ${ms(x.p95).padEnd(10)} ${ms(x.p99).padEnd(10)} ${`${x.lost}/${x.sent}`.padEnd(14)} ${r.rssMiB.toFixed(0)} MiB`);
}
const q = summary(atQuota);
const f = summary(flooded);
console.log(`  p99 with the flood / with the sixth at its quota: ${(f.p99 / q.p99).toFixed(2)}x (bound 1.5x); / five alone: ${(f.p99 / summary(alone).p99).toFixed(2)}x`);
for (const [title, r] of rows.slice(1)) {
  const fl = r.flood!;
  console.log(
    `  sixth tenant, ${title.replace('sixth ', '')}: ${fl.sent} requests (${((fl.sent * FLOOD_SPANS) / SECONDS).toFixed(0)} spans/s), ${fl.accepted} accepted (${(fl.acceptedSpans / SECONDS).toFixed(0)} spans/s; quota ${QUOTA}/s plus ${2 * QUOTA} of burst), ${fl.refused} refused with 429${fl.retryAfter.length ? ` (Retry-After ${Math.min(...fl.retryAfter)}-${Math.max(...fl.retryAfter)} s)` : ''}, ${fl.failed} other`,
  );
}

// Fairness under a flood: five tenants send at their normal rate, first alone, then while a
// sixth sends at ten times its quota. Prints the normal tenants' ingest latency (p50, p95,
// p99) in both runs and their ratio, batches lost, and what the flooding tenant got through
// against its quota. Each run gets a fresh server in its own process (demo registry, quotas
// and policies on), so the client's own work does not share the server's event loop.
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

interface Run {
  normal: StreamResult[];
  flood?: StreamResult;
  rssMiB: number;
}

async function run(withFlood: boolean): Promise<Run> {
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
    const results = await runStreams(server.otlpHttpUrl, withFlood ? [...NORMAL, FLOOD] : NORMAL, SECONDS * 1000);
    return { normal: results.slice(0, NORMAL.length), flood: withFlood ? results[NORMAL.length] : undefined, rssMiB: rss };
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
const base = await run(false);
const flooded = await run(true);
const b = summary(base);
const f = summary(flooded);
console.log('');
console.log('                     p50        p95        p99        batches lost   server RSS peak');
console.log(`  without flood   ${ms(b.p50).padEnd(10)} ${ms(b.p95).padEnd(10)} ${ms(b.p99).padEnd(10)} ${`${b.lost}/${b.sent}`.padEnd(14)} ${base.rssMiB.toFixed(0)} MiB`);
console.log(`  with flood      ${ms(f.p50).padEnd(10)} ${ms(f.p95).padEnd(10)} ${ms(f.p99).padEnd(10)} ${`${f.lost}/${f.sent}`.padEnd(14)} ${flooded.rssMiB.toFixed(0)} MiB`);
console.log(`  p99 ratio       ${(f.p99 / b.p99).toFixed(2)}x (bound: 1.5x)`);
const fl = flooded.flood!;
const rate = fl.acceptedSpans / SECONDS;
console.log('');
console.log(`  flood: ${fl.sent} requests sent (${(fl.sent * FLOOD_SPANS) / SECONDS} spans/s), ${fl.accepted} accepted (${rate.toFixed(0)} spans/s against a quota of ${QUOTA}/s plus ${2 * QUOTA} of burst), ${fl.refused} refused with 429, ${fl.failed} other`);
if (fl.retryAfter.length > 0) console.log(`  Retry-After given: ${Math.min(...fl.retryAfter)}-${Math.max(...fl.retryAfter)} s`);

// `tenantscope demo`: the whole product in one command. Starts tenantscope on a temporary
// chDB data directory, sends a simulated day of the demo platform (eod-burst by default)
// through the OTLP exporters, prints the SLO, noisy-neighbour and cost reports as tables with
// the URLs and tokens to explore them, and keeps serving until stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from './server.js';
import { simulate, type SimulationSummary } from './simulate/index.js';
import type { ScenarioName } from './simulate/scenarios.js';
import { sloReport, type SloReport } from './reports/slo.js';
import { noisyNeighborReport } from './reports/noisy.js';
import { costReport } from './reports/cost.js';
import { formatCost, formatNoisy, formatSloSummary } from './reports/format.js';

export interface DemoOptions {
  configPath: string;
  scenario: ScenarioName;
  seed: number;
  /** Real seconds the simulated day is spread over. */
  durationSec: number;
  rate: number;
  host: string;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  apiPort: number;
  /** Keep the data directory after stopping. */
  keepData: boolean;
  /** Where the tables and URLs go. */
  out: (text: string) => void;
  /** Progress lines while the day is simulated. */
  progress?: (text: string) => void;
}

export interface RunningDemo {
  server: RunningServer;
  dataDir: string;
  summary: SimulationSummary;
  /** Stop serving and remove the data directory (unless kept). */
  close(): Promise<void>;
}

const DAY = 86_400_000;

/** Run the demo up to the printed reports; the service keeps running until `close`. */
export async function runDemo(opts: DemoOptions): Promise<RunningDemo> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-demo-'));
  let server: RunningServer | undefined;
  const close = async () => {
    await server?.close();
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    server = await startServer({
      configPath: opts.configPath,
      dataDir,
      host: opts.host,
      otlpHttpPort: opts.otlpHttpPort,
      otlpGrpcPort: opts.otlpGrpcPort,
      apiPort: opts.apiPort,
    });
    opts.out(`tenantscope demo: serving OTLP/HTTP on ${server.otlpHttpUrl}, OTLP/gRPC on ${server.otlpGrpcUrl} and the API on ${server.apiUrl} (data in ${dataDir})`);
    opts.out(`simulating scenario ${opts.scenario}: a day of seven tenants in about ${opts.durationSec} s ...`);
    let reported = 0;
    const summary = await simulate({
      scenario: opts.scenario,
      endpoint: server.otlpHttpUrl,
      seed: opts.seed,
      durationSec: opts.durationSec,
      rate: opts.rate,
      periodMs: DAY,
      registryPath: opts.configPath,
      onProgress: (p) => {
        const quarter = Math.floor((4 * p.minutesDone) / p.minutes);
        if (quarter <= reported || p.minutesDone === p.minutes) return;
        reported = quarter;
        opts.progress?.(`  ${quarter * 25}% of the day, ${p.spans.toLocaleString('en-US')} spans sent`);
      },
    });
    await server.policies?.drain();
    // The reports read the store directly: what ingest deferred (the rollup's sums) goes in first.
    await server.settle();
    const sent = summary.tenants.reduce((a, t) => a + t.spans, 0);
    const failed = Object.values(summary.exports).reduce((a, c) => a + c.failedRequests, 0);
    const errors = Object.values(summary.exports).flatMap((c) => c.errors);
    opts.out(`sent ${sent.toLocaleString('en-US')} spans${failed > 0 ? `; ${failed} export request(s) FAILED: ${errors.join('; ')}` : ''}`);
    for (const w of summary.windows) opts.out(`  ${w.kind} ${new Date(w.fromMs).toISOString().slice(11, 16)}-${new Date(w.toMs).toISOString().slice(11, 16)} UTC: ${w.description}`);

    const toMs = Date.now();
    const window = { fromMs: summary.startMs, toMs };
    const slo: SloReport[] = [];
    for (const t of server.registry.tenants()) slo.push(await sloReport(server.store, t, { toMs }));
    opts.out(`\n${formatSloSummary(slo)}`);
    opts.out(`\n${formatNoisy(await noisyNeighborReport(server.store, window))}`);
    opts.out(`\n${formatCost(await costReport(server.store, server.registry, window))}`);

    const q = `from=${new Date(window.fromMs).toISOString()}&to=${new Date(window.toMs).toISOString()}`;
    const api = server.apiUrl;
    opts.out(
      [
        '',
        'Explore (tokens are the demo registry\'s published ones):',
        `  ${api}/ui in a browser: sign in with demo-auditor, demo-read-acme-dist or demo-admin`,
        `  curl -H 'authorization: Bearer demo-admin' '${api}/api/v1/noisy-neighbors?${q}'`,
        `  curl -H 'authorization: Bearer demo-read-acme-dist' '${api}/api/v1/tenants/acme-dist/noisy-neighbors?${q}'`,
        `  curl -H 'authorization: Bearer demo-read-acme-dist' '${api}/api/v1/tenants/acme-dist/slo'`,
        `  curl -H 'authorization: Bearer demo-admin' '${api}/api/v1/cost?${q}&format=csv'`,
        `  curl -H 'authorization: Bearer demo-admin' '${api}/api/v1/violations'`,
        `  tenantscope report noisy --api ${api} --token demo-admin --from ${window.fromMs}`,
        `  tenantscope simulate --scenario incident --endpoint ${server.otlpHttpUrl} --duration 30`,
        'Serving until interrupted (Ctrl-C).',
      ].join('\n'),
    );
    return { server, dataDir, summary, close };
  } catch (e) {
    await close();
    throw e;
  }
}

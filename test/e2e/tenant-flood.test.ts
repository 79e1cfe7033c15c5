// One tenant floods the receiver at ten times its quota while five others send at their
// normal rate, against a server in its own process with the demo registry. The normal
// tenants lose no batch; the flooding tenant is refused with 429 and a Retry-After, and what
// it gets stored stays within its quota. (Latency under the flood is measured, not asserted:
// `npm run bench:fairness` prints it against the same run without the flood.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCli, stopCli } from '../support/cli.js';
import { DEMO_CONFIG } from '../support/server.js';
import { runStreams, type Stream } from '../support/fairness-load.js';
import { ChdbStore } from '../../src/store/index.js';

const SECONDS = 6;
// initech-retail may send 2000 records/s (two seconds of burst); it sends 20000.
const FLOOD: Stream = { token: 'demo-ingest-initech-retail', rate: 100, spansPerRequest: 200 };
const NORMAL: Stream[] = ['acme-dist', 'hooli-wholesale', 'stark-logistics', 'umbrella-pharma', 'globex-3pl'].map((t) => ({
  token: `demo-ingest-${t}`,
  rate: 5,
  spansPerRequest: 100,
}));

test('a tenant sending ten times its quota is refused with 429 while five tenants at their normal rate lose no batch', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-flood-'));
  const server = await serveCli(['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0']);
  try {
    const [flood, ...normal] = await runStreams(server.otlpHttpUrl, [FLOOD, ...NORMAL], SECONDS * 1000);
    for (const n of normal) {
      process.stdout.write(`  ${n.token}: ${n.accepted}/${n.sent} accepted\n`);
      assert.is(n.accepted, n.sent, `${n.token} lost ${n.sent - n.accepted} batch(es)`);
    }
    process.stdout.write(`  flood: ${flood!.sent} sent, ${flood!.accepted} accepted, ${flood!.refused} refused with 429, ${flood!.failed} other\n`);
    assert.ok(flood!.refused > flood!.sent / 2, 'most of the flood is refused');
    assert.is(flood!.failed, 0, 'a refusal is a 429, not an error or a dropped connection');
    assert.ok(flood!.retryAfter.every((s) => Number.isInteger(s) && s >= 1 && s <= 60), 'every 429 says when to retry');
    // Two seconds of burst, the time the server was receiving (the run as it actually took:
    // longer than planned on a loaded machine), and one request's worth of debt.
    const allowance = 2000 * (2 + flood!.elapsedMs / 1000) + FLOOD.spansPerRequest;
    assert.ok(flood!.acceptedSpans <= allowance, `${flood!.acceptedSpans} spans accepted in ${flood!.elapsedMs.toFixed(0)} ms, quota allows ${allowance.toFixed(0)}`);
    assert.is(await stopCli(server), 0);

    const store = await ChdbStore.open(dataDir);
    try {
      // Refusals are stored summed (one usage row per tenant, signal and token every two seconds).
      const usage = await store.query<{ tenant_id: string; detail: string }>("SELECT tenant_id, detail FROM ingest_usage WHERE reason = 'rate_limited'");
      assert.equal([...new Set(usage.map((u) => u.tenant_id))], ['initech-retail'], 'refusals are recorded against the flooding tenant only');
      const refused = usage.reduce((a, u) => a + Number(/^(\d+) request\(s\)/.exec(u.detail)?.[1] ?? NaN), 0);
      assert.is(refused, flood!.refused, 'every refusal is counted');
      assert.ok(usage.length < flood!.refused / 10, `${usage.length} rows for ${flood!.refused} refusals: a flood is not a flood of writes`);
      const [stored] = await store.query<{ n: string }>("SELECT toString(count()) AS n FROM spans WHERE tenant_id = 'initech-retail'");
      assert.is(stored!.n, String(flood!.acceptedSpans), 'what was acknowledged to the flooding tenant is what is stored');
    } finally {
      await store.close();
    }
  } finally {
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

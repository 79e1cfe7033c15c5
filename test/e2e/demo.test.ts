// `tenantscope demo` as a user runs it: one command starts the service on a temporary data
// directory, simulates an eod-burst day, prints the three reports with globex-3pl as the top
// noisy neighbour and the URLs to explore, keeps serving them, and cleans up on Ctrl-C.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { runCli } from '../support/cli.js';
import type { NoisyNeighborReport } from '../../src/reports/noisy.js';

test('demo prints the SLO, noisy-neighbour and cost tables with the burst tenant on top, serves them, and cleans up', async () => {
  const child = runCli(['demo', '--duration', '2', '--rate', '0.2', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0'], { TENANTSCOPE_LOG_LEVEL: 'warn' });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not finish its reports:\n${out}\n${err}`)), 240_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Serving until interrupted')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`demo exited with ${code}:\n${out}\n${err}`)));
  });

  const lines = out.split('\n');
  const [, apiUrl, dataDir] = /the API on (http:\/\/\S+) \(data in (\S+)\)/.exec(out) ?? [];
  assert.ok(apiUrl && dataDir, out);
  assert.ok(existsSync(dataDir!), 'the data directory exists while serving');
  // The three tables.
  assert.ok(lines.some((l) => /^TENANT\s+STATUS\s+REQUESTS\s+AVAILABILITY/.test(l)), 'SLO table');
  const offenderHeader = lines.findIndex((l) => l.startsWith('OFFENDER'));
  assert.ok(offenderHeader > 0, 'noisy-neighbour table');
  assert.match(lines[offenderHeader + 1]!, /^globex-3pl\s+(service:order-api|db:pg-shared)\s/);
  assert.ok(lines.some((l) => /^TENANT\s+TIER\s+COMPUTE/.test(l)), 'cost table');
  assert.ok(lines.some((l) => /^total\s+/.test(l)), 'cost total line');
  // The printed URLs answer, with the same top offender.
  const noisyUrl = /'(http:\/\/\S+\/api\/v1\/noisy-neighbors\?\S+)'/.exec(out)?.[1];
  assert.ok(noisyUrl, 'a noisy-neighbour URL is printed');
  const res = await fetch(noisyUrl!, { headers: { authorization: 'Bearer demo-admin' } });
  assert.is(res.status, 200);
  const report = (await res.json()) as NoisyNeighborReport;
  assert.is(report.offenders[0]!.tenant, 'globex-3pl');
  assert.ok(report.victims.length >= 5, 'the tenants beside it are victims');

  child.kill('SIGINT');
  assert.is(await exited, 0);
  assert.not.ok(existsSync(dataDir!), 'the data directory is removed on exit');
});

test.run();

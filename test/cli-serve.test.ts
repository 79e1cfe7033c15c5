// `tenantscope serve` as an operator runs it: settings from flags and environment, a refusal
// to start on an invalid registry, and a restart on the same data directory that keeps data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliResult, serveCli as serve, stopCli as stop } from './support/cli.js';
import { bearer } from './support/server.js';
import { protobufTraces } from './support/otlp.js';
import { until } from './support/wait.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-cli-'));

test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test('serve refuses to start on an invalid registry and names the file, path and line', async () => {
  const bad = join(dataDir, 'bad-tenants.yaml');
  writeFileSync(bad, 'version: 1\ntenants:\n  - id: Not_A_Valid_Id\n    tier: platinum\n');
  const { code, stderr } = await cliResult(['serve', '--config', bad, '--data-dir', join(dataDir, 'never')]);
  assert.is(code, 2);
  assert.match(stderr, /TS_ERR_CONFIG/);
  assert.match(stderr, /bad-tenants\.yaml/);
  assert.match(stderr, /tenants\[0\]/);
  assert.match(stderr, /:3|line 3/);
});

test('a bad port flag is refused with a message naming the flag', async () => {
  const { code, stderr } = await cliResult(['serve', '--api-port', 'eighty']);
  assert.not.equal(code, 0);
  assert.match(stderr, /api-port/);
});

test('settings come from environment variables, and a restart on the same data directory keeps the data', async () => {
  const env = {
    TENANTSCOPE_CONFIG: 'fixtures/tenants.yaml',
    TENANTSCOPE_DATA_DIR: join(dataDir, 'store'),
    TENANTSCOPE_OTLP_HTTP_PORT: '0',
    TENANTSCOPE_OTLP_GRPC_PORT: '0',
    TENANTSCOPE_API_PORT: '0',
    TENANTSCOPE_HOST: '127.0.0.1',
  };
  const first = await serve([], env);
  assert.match(first.otlpGrpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'the gRPC endpoint is logged');
  assert.is.not(first.otlpGrpcUrl, 'http://127.0.0.1:4317', 'TENANTSCOPE_OTLP_GRPC_PORT=0 picks a free port');
  const res = await fetch(`${first.otlpHttpUrl}/v1/traces`, {
    method: 'POST',
    body: protobufTraces({ spans: 7 }),
    headers: { 'content-type': 'application/x-protobuf', ...bearer('demo-ingest-stark-logistics') },
  });
  assert.is(res.status, 200);
  assert.is(await stop(first), 0, 'SIGTERM shuts down cleanly');
  assert.ok(first.log.some((l) => l.includes('"migrationsApplied":[1')), 'first start applies the migrations');

  const second = await serve([], env);
  try {
    assert.ok(second.log.some((l) => l.includes('"migrationsApplied":[]')), 'second start applies nothing');
    const u = await fetch(`${second.apiUrl}/api/v1/tenants/stark-logistics/usage`, { headers: bearer('demo-read-stark-logistics') });
    assert.is(((await u.json()) as { spans: { count: number } }).spans.count, 7);
  } finally {
    await stop(second);
  }
});

test('flags win over environment variables', async () => {
  const s = await serve(['--api-port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--host', '127.0.0.1', '--data-dir', join(dataDir, 'flags')], {
    TENANTSCOPE_API_PORT: '1',
    TENANTSCOPE_DATA_DIR: join(dataDir, 'env-loses'),
  });
  try {
    assert.ok(s.log.some((l) => l.includes(join(dataDir, 'flags'))), 'the flag data dir is used');
    assert.is((await fetch(`${s.apiUrl}/healthz`)).status, 200);
  } finally {
    await stop(s);
  }
});

const jsonFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : []);
const servePorts = ['--api-port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--host', '127.0.0.1'];

test('serve signs a checkpoint every --checkpoint-interval into the data dir and the same file into --checkpoint-dir', async () => {
  const outside = join(dataDir, 'outside-checkpoints');
  mkdirSync(outside);
  const store = join(dataDir, 'checkpointed');
  const s = await serve([...servePorts, '--data-dir', store, '--checkpoint-dir', outside], { TENANTSCOPE_CHECKPOINT_INTERVAL: '1' });
  try {
    assert.ok(s.log.some((l) => l.includes('"msg":"audit chain checkpoints"') && l.includes('"intervalMs":1000')), 'the interval from the environment, in seconds');
    await until('two checkpoints in both directories', async () => jsonFiles(join(store, 'checkpoints')).length >= 2 && jsonFiles(outside).length >= 2);
  } finally {
    assert.is(await stop(s), 0);
  }
  const own = jsonFiles(join(store, 'checkpoints'));
  assert.equal(jsonFiles(outside), own, 'the same files outside the data dir');
  for (const f of own) assert.is(readFileSync(join(outside, f), 'utf8'), readFileSync(join(store, 'checkpoints', f), 'utf8'));
});

test('a clean shutdown takes a checkpoint, also before the first interval', async () => {
  const store = join(dataDir, 'shutdown');
  const s = await serve([...servePorts, '--data-dir', store]);
  assert.equal(jsonFiles(join(store, 'checkpoints')), [], 'none before the first interval (10 minutes)');
  assert.is(await stop(s), 0);
  assert.is(jsonFiles(join(store, 'checkpoints')).length, 1);
});

test('--checkpoint-interval takes whole seconds', async () => {
  const { code, stderr } = await cliResult(['serve', '--checkpoint-interval', '10m']);
  assert.not.equal(code, 0);
  assert.match(stderr, /checkpoint-interval/);
});

test.run();

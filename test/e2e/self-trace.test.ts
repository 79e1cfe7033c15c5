// Self-instrumentation: with --self-trace-endpoint, tenantscope exports spans of its own
// pipeline over OTLP/HTTP (protobuf); without it, it exports nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCli, stopCli } from '../support/cli.js';
import { DEMO_CONFIG } from '../support/server.js';
import { jsonTraces } from '../support/otlp.js';
import { decodeOtlp } from '../../src/ingest/otlp/index.js';
import type { SpanRecord } from '../../src/ingest/otlp/types.js';

/** An OTLP/HTTP traces endpoint that keeps what it is sent. */
async function collector(): Promise<{ server: Server; url: string; spans: SpanRecord[]; services: string[] }> {
  const spans: SpanRecord[] = [];
  const services: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = decodeOtlp('traces', Buffer.concat(chunks), 'protobuf');
      for (const g of decoded.groups) {
        services.push(String(g.resource.attributes['service.name'] ?? ''));
        spans.push(...(g.items as SpanRecord[]));
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/v1/traces`, spans, services };
}

async function ingestOnce(otlpHttpUrl: string): Promise<void> {
  const res = await fetch(`${otlpHttpUrl}/v1/traces`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-ingest-acme-dist', 'content-type': 'application/json' },
    body: jsonTraces({ spans: 3, resource: { 'service.name': 'self-trace-check' } }),
  });
  assert.is(res.status, 200);
}

test("with --self-trace-endpoint the pipeline's own spans reach the endpoint", async () => {
  const c = await collector();
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-selftrace-'));
  const s = await serveCli(['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0', '--self-trace-endpoint', c.url], { OTEL_BSP_SCHEDULE_DELAY: '100' });
  try {
    await ingestOnce(s.otlpHttpUrl);
    const deadline = Date.now() + 15_000;
    const names = () => new Set(c.spans.map((x) => x.name));
    while (Date.now() < deadline && !(names().has('tenantscope.ingest') && names().has('tenantscope.store.insert'))) await new Promise((r) => setTimeout(r, 100));
    assert.ok(names().has('tenantscope.ingest'), `spans seen: ${[...names()].join(', ')}`);
    assert.ok(names().has('tenantscope.decode'));
    assert.ok(names().has('tenantscope.store.insert'));
    assert.ok(c.services.every((x) => x.includes('tenantscope')), c.services.join(', '));
    const ingest = c.spans.find((x) => x.name === 'tenantscope.ingest')!;
    const decode = c.spans.find((x) => x.name === 'tenantscope.decode')!;
    assert.is(decode.traceId, ingest.traceId, 'decode is part of the ingest trace');
  } finally {
    await stopCli(s);
    c.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without it nothing is exported', async () => {
  const c = await collector();
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-selftrace-'));
  const s = await serveCli(['--config', DEMO_CONFIG, '--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0'], { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: c.url });
  try {
    await ingestOnce(s.otlpHttpUrl);
    await new Promise((r) => setTimeout(r, 1000));
    assert.is(c.spans.length, 0);
  } finally {
    await stopCli(s);
    c.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

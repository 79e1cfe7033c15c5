// The global memory limit through a running service: over it, OTLP/HTTP and OTLP/gRPC ingest
// is refused before decoding with 503 / UNAVAILABLE and a retry time, and nothing is stored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { credentials, Metadata, makeGenericClientConstructor, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { bearer, startTestServer } from '../support/server.js';
import { protobufTraces } from '../support/otlp.js';
import { decodeStatus } from '../../src/ingest/otlp/index.js';

test('over the memory limit, ingest answers 503 (HTTP) and UNAVAILABLE (gRPC) with a retry time, and stores nothing', async () => {
  // A limit of one byte: the process is always over it.
  const server = await startTestServer({ memory: { maxRssBytes: 1 }, policies: 'off' });
  try {
    const body = protobufTraces({ spans: 2, resource: { 'service.name': 'over-memory' } });
    const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', ...bearer('demo-ingest-acme-dist') } });
    assert.is(res.status, 503);
    assert.is(res.headers.get('retry-after'), '1');
    const st = decodeStatus(Buffer.from(await res.arrayBuffer()), 'protobuf');
    assert.is(st.code, 14);
    assert.match(st.message, /^TS_ERR_OVERLOADED: tenantscope is at its memory limit \(resident memory \d+ MiB over 0 MiB\)/);

    const Client = makeGenericClientConstructor(
      { Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
      'TraceService',
    );
    const client = new Client(server.otlpGrpcAddress, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', 'Bearer demo-ingest-acme-dist');
    const err = await new Promise<ServiceError | null>((resolve) => (client as unknown as { Export: (b: Buffer, m: Metadata, cb: (e: ServiceError | null) => void) => void }).Export(body, md, (e) => resolve(e)));
    client.close();
    assert.is(err?.code, GrpcStatus.UNAVAILABLE);
    assert.match(err!.details, /^TS_ERR_OVERLOADED/);

    const [n] = await server.store.query<{ n: string }>("SELECT toString(count()) AS n FROM spans WHERE service_name = 'over-memory'");
    assert.is(n!.n, '0');
  } finally {
    await server.stop();
  }
});

test.run();

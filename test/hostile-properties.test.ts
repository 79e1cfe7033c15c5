// Property-based hostile input: random and mutated bodies through the OTLP protobuf and JSON
// decoders, and random and mutated sources through the Rego parser. Whatever comes in, the
// answer is a result or a clear client error (a 4xx TenantscopeError, a RegoError with a
// position), never a crash of another kind, a hang or unbounded growth. Fixed seed and run
// counts, so the suite is reproducible and its time bounded; a failure prints the seed and
// the shrunk counterexample.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodeProtobuf } from '../src/ingest/otlp/decode-proto.js';
import { decodeJson } from '../src/ingest/otlp/decode-json.js';
import type { SpanRecord } from '../src/ingest/otlp/types.js';
import { isTenantscopeError } from '../src/errors.js';
import { parseModule, parseQuery } from '../src/policy/rego/parser.js';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { protobufTraces, jsonTraces, makeSpans } from './support/otlp.js';
import { SEED, mutated } from './support/hostile.js';
const SIGNALS = ['traces', 'metrics', 'logs'] as const;

/** Decoding either succeeds or fails as a 4xx TenantscopeError; anything else fails the property. */
function decodesOrRefuses(decode: () => unknown): boolean {
  try {
    decode();
    return true;
  } catch (e) {
    if (isTenantscopeError(e) && e.status >= 400 && e.status < 500) return true;
    throw e;
  }
}

const run = (prop: fc.IPropertyWithHooks<unknown> | fc.IAsyncPropertyWithHooks<unknown>, numRuns: number) => fc.assert(prop as fc.IProperty<unknown>, { seed: SEED, numRuns });

test('random bytes as OTLP/protobuf of every signal decode or are refused with a 4xx', () => {
  run(fc.property(fc.constantFrom(...SIGNALS), fc.uint8Array({ maxLength: 2048 }), (signal, body) => decodesOrRefuses(() => decodeProtobuf(signal, body))), 3000);
});

test('mutated valid OTLP/protobuf trace bodies decode or are refused with a 4xx', () => {
  const valid = protobufTraces({ spans: 3, resource: { 'tenant.id': 'acme-dist', 'service.name': 'order-api' } });
  run(fc.property(fc.constantFrom(...SIGNALS), mutated(valid), (signal, body) => decodesOrRefuses(() => decodeProtobuf(signal, body))), 3000);
});

test('deeply nested protobuf (length-delimited fields inside each other) is refused, not a stack overflow', () => {
  // Field 1, wire type 2, nested 50,000 deep: each level a one-byte tag and a varint length,
  // built from the inside out.
  const prefixes: number[][] = [];
  let len = 0;
  for (let i = 0; i < 50_000; i++) {
    const varint: number[] = [];
    let v = len;
    do {
      varint.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
      v >>>= 7;
    } while (v > 0);
    prefixes.push([0x0a, ...varint]);
    len += 1 + varint.length;
  }
  const inner = prefixes.reverse().flat();
  for (const signal of SIGNALS) assert.ok(decodesOrRefuses(() => decodeProtobuf(signal, Uint8Array.from(inner))), signal);
});

test('random JSON documents as OTLP/JSON of every signal decode or are refused with a 4xx', () => {
  run(
    fc.property(fc.constantFrom(...SIGNALS), fc.jsonValue({ maxDepth: 6 }), (signal, doc) => decodesOrRefuses(() => decodeJson(signal, Buffer.from(JSON.stringify(doc) ?? 'null')))),
    2000,
  );
});

test('OTLP/JSON shaped like a request with random values in every slot decodes or is refused with a 4xx', () => {
  const anyValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ stringValue: fc.jsonValue({ maxDepth: 1 }) }), fc.record({ intValue: fc.oneof(fc.string(), fc.integer(), fc.double()) }));
  const kv = fc.record({ key: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })), value: anyValue });
  const span = fc.record(
    {
      traceId: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef') }), fc.string(), fc.jsonValue({ maxDepth: 1 })),
      spanId: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef') }), fc.string()),
      name: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
      kind: fc.oneof(fc.integer(), fc.string()),
      startTimeUnixNano: fc.oneof(fc.string(), fc.bigInt().map(String), fc.double()),
      endTimeUnixNano: fc.oneof(fc.string(), fc.bigInt().map(String), fc.integer()),
      attributes: fc.array(kv, { maxLength: 4 }),
    },
    { requiredKeys: [] },
  );
  const body = fc.record({
    resourceSpans: fc.array(fc.record({ resource: fc.record({ attributes: fc.array(kv, { maxLength: 4 }) }), scopeSpans: fc.array(fc.record({ spans: fc.array(span, { maxLength: 4 }) }), { maxLength: 3 }) }), { maxLength: 3 }),
  });
  run(fc.property(body, (doc) => decodesOrRefuses(() => decodeJson('traces', Buffer.from(JSON.stringify(doc))))), 2000);
});

test('whatever decodes under random small limits respects them: attribute counts, key and name lengths, the same from both encodings', () => {
  const attrs = fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 })), { maxKeys: 12 });
  const spec = fc.record({
    limits: fc.record({ maxDepth: fc.integer({ min: 2, max: 6 }), maxAttributes: fc.integer({ min: 1, max: 8 }), maxStringLength: fc.integer({ min: 1, max: 20 }) }),
    resource: attrs,
    attributes: attrs,
    name: fc.string({ maxLength: 40 }),
    spans: fc.integer({ min: 1, max: 3 }),
  });
  run(
    fc.property(spec, ({ limits, resource, attributes, name, spans }) => {
      const trace = { resource: { 'service.name': 'svc', ...resource }, attributes, name, spans };
      const sdk = makeSpans(trace);
      const fromProto = decodeProtobuf('traces', ProtobufTraceSerializer.serializeRequest(sdk)!, limits);
      assert.equal(fromProto, decodeJson('traces', JsonTraceSerializer.serializeRequest(sdk)!, limits));
      const chars = (s: string) => [...s].length;
      for (const g of fromProto.groups) {
        assert.ok(Object.keys(g.resource.attributes).length <= limits.maxAttributes);
        for (const s of g.items as SpanRecord[]) {
          assert.ok(chars(s.name) <= limits.maxStringLength);
          assert.ok(Object.keys(s.attributes).length <= limits.maxAttributes);
          for (const [k, v] of Object.entries(s.attributes)) {
            assert.ok(chars(k) <= limits.maxStringLength);
            // only strings are cut: numbers and bools keep their digits, arrays their elements
            const sent = (attributes as Record<string, unknown>)[k] ?? '/orders/{id}';
            if (typeof sent === 'string') assert.ok(chars(v) <= limits.maxStringLength, `${k}=${v}`);
            else if (Array.isArray(sent)) for (const el of JSON.parse(v) as string[]) assert.ok(chars(el) <= limits.maxStringLength, `${k}=${v}`);
          }
        }
      }
      return true;
    }),
    300,
  );
});

test('mutated valid OTLP/JSON trace bodies decode or are refused with a 4xx', () => {
  const valid = jsonTraces({ spans: 2, resource: { 'tenant.id': 'acme-dist', 'service.name': 'order-api' } });
  run(fc.property(mutated(valid), (body) => decodesOrRefuses(() => decodeJson('traces', body))), 3000);
});

/** Parsing either succeeds or fails with a RegoError; anything else fails the property. */
function parsesOrRefuses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (e instanceof Error && e.name === 'RegoError') return true;
    throw e;
  }
}

const REGO = `package tenantscope.sample

import rego.v1

default allow := false

allow if {
  input.actor.tenant_id == input.tenant
  some r in input.roles
  r == "reader"
}

violations contains {"rule": "x", "n": count(xs)} if {
  xs := [x | some x in input.items; x > 2]
  count(xs) > 0
}
`;

test('random text and mutated policies through the Rego parser parse or fail with a RegoError', () => {
  const tokens = fc.constantFrom('package', 'import', 'if', 'contains', 'some', 'in', 'every', 'not', 'with', 'as', 'default', ':=', '=', '==', '{', '}', '[', ']', '(', ')', '|', ';', ',', '.', '"s"', '`raw`', '1.5e3', 'x', 'input', 'data', '\n', ' ', '#', '_');
  run(fc.property(fc.array(tokens, { maxLength: 60 }), (parts) => parsesOrRefuses(() => parseModule(parts.join(' ')))), 3000);
  run(fc.property(fc.string({ maxLength: 200 }), (s) => parsesOrRefuses(() => parseModule(s)) && parsesOrRefuses(() => parseQuery(s))), 3000);
  const mutatedSource = fc
    .array(fc.tuple(fc.nat({ max: REGO.length }), fc.string({ maxLength: 3 }), fc.boolean()), { minLength: 1, maxLength: 5 })
    .map((edits) => edits.reduce((src, [at, text, cut]) => (cut ? src.slice(0, at) + src.slice(at + text.length + 1) : src.slice(0, at) + text + src.slice(at)), REGO));
  run(fc.property(mutatedSource, (src) => parsesOrRefuses(() => parseModule(src))), 3000);
});

test('deeply nested Rego terms are refused with a RegoError, not a stack overflow', () => {
  for (const [open, close] of [['[', ']'], ['{', '}'], ['(', ')']]) {
    const src = `package p\nx := ${open.repeat(100_000)}1${close.repeat(100_000)}`;
    assert.ok(parsesOrRefuses(() => parseModule(src)), `${open}${close} nested 100,000 deep`);
  }
});

test.run();

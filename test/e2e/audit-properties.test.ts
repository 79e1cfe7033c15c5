// Property-based hostile input on the audit path: random documents, and audit events whose
// every field may be replaced by a random value, are posted to a running tenantscope. Every
// answer is a JSON 2xx or 4xx (never a 5xx), and afterwards the tenant's hash chain still
// verifies: nothing hostile got in half-way. Fixed seed and run count.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { auditEvent } from '../support/audit.js';

const SEED = 20261122;
let server: TestServer;

test.before(async () => {
  server = await startTestServer({ policies: 'off' });
});
test.after(async () => {
  await server.stop();
});

const VALID = auditEvent();

/** A valid event with any of its fields replaced by random JSON, dropped, or joined by a stray key. */
const event = fc
  .record({
    replace: fc.dictionary(fc.constantFrom(...Object.keys(VALID)), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 3 }),
    drop: fc.subarray(Object.keys(VALID), { maxLength: 2 }),
    extra: fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
  })
  .map(({ replace, drop, extra }) => {
    const e: Record<string, unknown> = { ...VALID, ...replace, ...extra };
    for (const k of drop) delete e[k];
    return e;
  });

const body = fc.oneof(
  event.map((e) => JSON.stringify(e)),
  fc.array(event, { maxLength: 4 }).map((es) => JSON.stringify(es)),
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 300 }),
);

test('random and mutated audit bodies get a JSON 2xx or 4xx, and the chain still verifies', async () => {
  let accepted = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', ...bearer('demo-ingest-acme-dist') } });
      const reply = (await res.json()) as { accepted?: number; error?: { code: string } };
      if (res.status >= 500) throw new Error(`${res.status} for ${text.slice(0, 200)}`);
      if (res.status < 300) accepted += reply.accepted ?? 0;
      else refused++;
      return res.status < 500;
    }),
    { seed: SEED, numRuns: 300 },
  );
  assert.ok(accepted > 0 && refused > 0, `both outcomes exercised (${accepted} events accepted, ${refused} bodies refused)`);
  const verify = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/audit/verify`, { headers: bearer('demo-admin') });
  const chain = (await verify.json()) as { status: string; events: number };
  assert.is(chain.status, 'ok');
  assert.is(chain.events, accepted);
});

test.run();

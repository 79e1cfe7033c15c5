// What the ingest path stores for a corpus of OTLP requests is unchanged: each request of
// test/fixtures/ingest-corpus/corpus.json (protobuf and JSON; traces, logs and metrics; the
// OTLP examples, the rollup of shared resources, redaction of other tenants' identifiers,
// secrets and PII, tenant mismatches, invalid ids, input limits, times after 2262, a
// malformed body) is replayed in order against a fresh server, and its HTTP status, its reply
// and the rows it added to spans, logs, metric_points, redactions, ingest_usage and the
// resource_minutes rollup must be those in expected.json, column by column. A difference
// names the request, the table, the row and the column.
//
// expected.json was captured from the ingest path as it was (JSONEachRow rows) by
// scripts/capture-ingest-corpus.ts; a deliberate change to what is stored is captured again
// and its diff reviewed. Columns that differ from run to run are left out (see TABLES in
// test/support/ingest-corpus.ts); redaction markers are kept, the redaction key being fixed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, CorpusReplay, EXPECTED_FILE, TABLE_NAMES, describeRow, loadCorpus, type CorpusOutcome, type Row, type TableName } from '../support/ingest-corpus.js';
import { otlpJsonToProtobuf } from '../support/otlp-protobuf.js';

const corpus = loadCorpus();
const expected = (JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as { requests: CorpusOutcome[] }).requests;

let replay: CorpusReplay;
test.before(async () => {
  replay = await CorpusReplay.start();
});
test.after(async () => {
  await replay.stop();
});

/** Rows compared column by column; fails naming the row and the first column that differs. */
function assertRows(where: string, want: Row[], got: Row[]): void {
  for (let i = 0; i < Math.min(want.length, got.length); i++) {
    const w = want[i]!;
    const g = got[i]!;
    for (const col of new Set([...Object.keys(w), ...Object.keys(g)])) {
      assert.is(JSON.stringify(g[col]), JSON.stringify(w[col]), `${where}, row ${i} (${describeRow(w)}): column ${col}`);
    }
  }
  if (got.length === want.length) return;
  const first = got.length > want.length ? `first extra: ${describeRow(got[want.length]!)}` : `first missing: ${describeRow(want[got.length]!)}`;
  assert.is(got.length, want.length, `${where}: number of rows; ${first}`);
}

test('expected.json was captured from this corpus: the same requests in the same order', () => {
  assert.equal(
    expected.map((e) => e.name),
    corpus.map((r) => r.name),
  );
});

test('each protobuf body in the corpus is its OTLP/JSON source, encoded', () => {
  for (const req of corpus.filter((r) => r.source)) {
    const source = JSON.parse(readFileSync(join(CORPUS_DIR, req.source!), 'utf8')) as Record<string, unknown>;
    const body = readFileSync(join(CORPUS_DIR, req.body));
    assert.ok(body.equals(otlpJsonToProtobuf(req.signal, source)), `${req.name}: ${req.body} is stale; run scripts/capture-ingest-corpus.ts`);
  }
});

const got = new Map<string, CorpusOutcome>();
const COMPARED: TableName[] = TABLE_NAMES.filter((t) => t !== 'usage_bytes');

for (const [i, req] of corpus.entries()) {
  test(`${req.name} (${req.encoding} ${req.signal}): ${req.about}; stored as captured`, async () => {
    const want = expected[i]!;
    assert.is(want.name, req.name, 'expected.json is in corpus order');
    const outcome = await replay.send(req);
    got.set(req.name, outcome);
    assert.is(outcome.status, want.status, `${req.name}: HTTP status`);
    assert.equal(outcome.reply, want.reply, `${req.name}: reply`);
    for (const table of COMPARED) {
      assertRows(`${req.name}, table ${table}, added`, want.tables[table].added, outcome.tables[table].added);
      assertRows(`${req.name}, table ${table}, replaced`, want.tables[table].removed, outcome.tables[table].removed);
    }
  });
}

// The usage rows' bytes are the size of the rows as encoded for the store, and the cost report
// charges tenants for them ("GB ingested"): a new encoding of the rows changes tenants' bills.
test('the bytes each request is charged for, per tenant and outcome, are those captured', () => {
  assert.is(got.size, corpus.length, 'every request was replayed');
  for (const [i, req] of corpus.entries()) {
    assertRows(`${req.name}, ingest_usage bytes`, expected[i]!.tables.usage_bytes.added, got.get(req.name)!.tables.usage_bytes.added);
  }
});

test.run();

// Captures what the current ingest path stores for the ingest corpus: encodes the protobuf
// bodies from their OTLP/JSON sources, replays every request against a fresh tenantscope and
// writes test/fixtures/ingest-corpus/expected.json, which test/e2e/ingest-corpus.test.ts
// compares later replays with. Run after a deliberate change to what is stored, and review the
// diff of expected.json like code:
//   npx tsc -p . && node dist/scripts/capture-ingest-corpus.js
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, CORPUS_REDACTION_KEY, CorpusReplay, EXPECTED_FILE, TABLES, loadCorpus, type CorpusOutcome } from '../test/support/ingest-corpus.js';
import { otlpJsonToProtobuf } from '../test/support/otlp-protobuf.js';

async function main(): Promise<void> {
  const corpus = loadCorpus();
  for (const req of corpus) {
    if (!req.source) continue;
    const source = JSON.parse(readFileSync(join(CORPUS_DIR, req.source), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(CORPUS_DIR, req.body), otlpJsonToProtobuf(req.signal, source));
  }
  const replay = await CorpusReplay.start();
  const outcomes: CorpusOutcome[] = [];
  try {
    for (const req of corpus) {
      const outcome = await replay.send(req);
      outcomes.push(outcome);
      const rows = Object.entries(outcome.tables).map(([t, c]) => `${t} +${c.added.length}${c.removed.length ? ` -${c.removed.length}` : ''}`).join(', ');
      process.stdout.write(`${req.name}: ${outcome.status}; ${rows}\n`);
    }
  } finally {
    await replay.stop();
  }
  const expected = {
    about: 'What the ingest path stored for each request of corpus.json, replayed in order on a fresh server. Written by scripts/capture-ingest-corpus.ts; do not edit by hand.',
    redactionKey: CORPUS_REDACTION_KEY,
    queries: TABLES,
    requests: outcomes,
  };
  writeFileSync(EXPECTED_FILE, JSON.stringify(expected, null, 1) + '\n');
  process.stdout.write(`wrote ${EXPECTED_FILE} (${outcomes.length} requests)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});

// What a tenant's reader is shown of findings about other tenants: every name of another
// tenant (id, name, customer codes, domains) becomes "another tenant"; the reader's own stay.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRegistry } from '../src/config/index.js';
import { ANOTHER_TENANT, withoutForeignNames } from '../src/reports/foreign-names.js';
import { readFileSync } from 'node:fs';

const registry = parseRegistry(readFileSync(new URL('../../fixtures/tenants.yaml', import.meta.url), 'utf8'), 'tenants.yaml');

test("another tenant's id, name and identifiers are replaced everywhere in a report, keys included", () => {
  const finding = {
    subject: 'globex-3pl',
    message: '2 identifiers of tenant globex-3pl (Globex Third-Party Logistics, CUST-60981) were redacted from traces data of acme-dist',
    evidence: { identifier_owner: 'globex-3pl', 'globex-3pl.example.com': ['GLOBEX', 3] },
  };
  const shown = withoutForeignNames(finding, registry, 'acme-dist');
  const text = JSON.stringify(shown);
  for (const n of ['globex-3pl', 'Globex', 'GLOBEX', 'CUST-60981']) assert.not.ok(text.includes(n), n);
  assert.is(shown.subject, ANOTHER_TENANT);
  assert.ok(shown.message.endsWith('traces data of acme-dist'), 'the reader\'s own id stays');
  assert.ok(shown.message.startsWith('2 identifiers of another tenant ('), shown.message);
  assert.equal((shown.evidence as Record<string, unknown>)[ANOTHER_TENANT], [ANOTHER_TENANT, 3]);
});

test("the reader's own names stay whole even where another tenant's identifier could match inside them", () => {
  // acme-dist's domain contains its own id; the longest name at a position wins.
  assert.is(withoutForeignNames('acme-dist.example.com and hooli-wholesale.example.com', registry, 'acme-dist'), `acme-dist.example.com and ${ANOTHER_TENANT}`);
});

test('values that look like patterns or carry control characters pass through unchanged', () => {
  const hostile = ['.*', '(a|b)+$', '\u0000 0 \u0000', '\\', '[CUST-', ''];
  assert.equal(withoutForeignNames(hostile, registry, 'acme-dist'), hostile);
  assert.equal(withoutForeignNames({ n: 1, b: true, z: null }, registry, 'acme-dist'), { n: 1, b: true, z: null });
});

test.run();

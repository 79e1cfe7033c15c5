// Redaction: what is hidden (other tenants' identifiers, secrets, the PII a tenant enables),
// what must never be (a tenant's own identifiers, 10,000 realistic clean values), how markers
// look and behave, how records and shared objects are walked and counted, and that hostile
// inputs cannot make the scan blow up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadRegistry, parseRegistry, PII_CLASSES, type Registry, type TenantRecord } from '../src/config/index.js';
import { isTenantscopeError } from '../src/errors.js';
import { decodeOtlp } from '../src/ingest/otlp/index.js';
import { emptyMetricPoint, emptySpan } from '../src/ingest/otlp/flatten.js';
import type { Attributes, LogBodyKind, LogRecord, MetricPoint, ResourceGroup, Scope, SpanRecord } from '../src/ingest/otlp/types.js';
import {
  IdentifierMatcher,
  RedactionTally,
  Redactor,
  cardNetwork,
  fieldPath,
  gs1Valid,
  ibanValid,
  isCardNumber,
  isSecretKey,
  luhnValid,
  mayContainPattern,
  patternSetFor,
  type RedactedDataClass,
  type RedactionClass,
} from '../src/ingest/redact/index.js';
import { protobufTraces } from './support/otlp.js';

// Compiled to dist/test/, so the repo root is two levels up.
const DEMO_URL = new URL('../../fixtures/tenants.yaml', import.meta.url);
const DEMO_TEXT = readFileSync(DEMO_URL, 'utf8');
const TIERS = DEMO_TEXT.split('\ntenants:')[0]!;
const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

const demo: Registry = loadRegistry(DEMO_URL);
const redactor = new Redactor(demo, KEY);
const acme = demo.tenant('acme-dist')!; // pii: email, phone
const hooli = demo.tenant('hooli-wholesale')!; // pii: email
const initech = demo.tenant('initech-retail')!; // pii: none

const MARKER_RE = /\[REDACTED:([a-z_]+):([0-9a-f]{8})\]/g;
const WHOLE_MARKER_RE = /^\[REDACTED:([a-z_]+):([0-9a-f]{8})\]$/;

function tenantYaml(id: string, identifiers: readonly string[], pii: readonly string[] = []): string {
  return (
    `  - id: ${id}\n    name: ${id} Inc.\n    tier: shared\n    region: us-east-1\n    allowed_regions: [us-east-1]\n` +
    `    identifiers: [${identifiers.join(', ')}]\n    pii_classes: [${pii.join(', ')}]\n`
  );
}

function registryOf(tenants: string, name: string): Registry {
  return parseRegistry(`${TIERS}\ntenants:\n${tenants}tokens: []\n`, name);
}

/** The demo registry plus one tenant with every PII class enabled. */
const withAllPii = parseRegistry(
  DEMO_TEXT.replace('\ntokens:\n', `\n${tenantYaml('northwind-traders', ['NORTHWIND', 'northwind.example.net', 'CUST-77120'], PII_CLASSES)}\ntokens:\n`),
  'all-pii.yaml',
);
const northwind = withAllPii.tenant('northwind-traders')!;
const allPiiRedactor = new Redactor(withAllPii, KEY);

/** The marker a redaction must produce, computed independently of the implementation. */
function expectedMarker(tenantId: string, cls: RedactionClass, raw: string, master = KEY): string {
  const tenantKey = createHmac('sha256', master).update(`tenantscope/redaction/${tenantId}`).digest();
  return `[REDACTED:${cls}:${createHmac('sha256', tenantKey).update(raw, 'utf8').digest('hex').slice(0, 8)}]`;
}

function redact(tenant: TenantRecord, value: string, r = redactor): { out: string; tally: RedactionTally } {
  const tally = new RedactionTally();
  const out = r.redactString(tenant, value, 'logs', 'log.body', tally);
  return { out, tally };
}

/** The classes of the markers in `text`, in order. */
function markerClasses(text: string): string[] {
  return [...text.matchAll(MARKER_RE)].map((m) => m[1]!);
}

function counts(tally: RedactionTally): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of tally.entries()) out[`${c.dataClass} ${c.field} ${c.cls}`] = c.count;
  return out;
}

function scope(attributes: Attributes = {}): Scope {
  return { name: '@shop/orders', version: '1.4.0', attributes, droppedAttributesCount: 0, schemaUrl: '' };
}

function span(sc: Scope, over: Partial<SpanRecord> = {}): SpanRecord {
  return {
    ...emptySpan(sc),
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    flags: 1,
    name: 'POST /orders',
    kind: 2,
    startTimeUnixNano: '1718900000000000000',
    endTimeUnixNano: '1718900000012000000',
    ...over,
  };
}

function logRecord(sc: Scope, body: string, bodyKind: LogBodyKind, attributes: Attributes = {}): LogRecord {
  return {
    scope: sc,
    timeUnixNano: '1718900000000000000',
    observedTimeUnixNano: '1718900000000000000',
    severityNumber: 9,
    severityText: 'INFO',
    body,
    bodyKind,
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
}

function group<T>(items: T[], attributes: Attributes = { 'service.name': 'order-api' }): ResourceGroup<T> {
  return { resource: { attributes, droppedAttributesCount: 0, schemaUrl: '' }, items };
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// One leak per class

test("another tenant's customer code inside an order span attribute becomes a tenant_identifier marker", () => {
  const s = span(scope(), { attributes: { 'order.note': 'order for CUST-20517 shipped', 'order.id': 'ORD-2024-000123' } });
  const tally = new RedactionTally();
  redactor.redactSpans(acme, [group([s])], tally);
  assert.is(s.attributes['order.note'], `order for ${expectedMarker('acme-dist', 'tenant_identifier', 'CUST-20517')} shipped`);
  assert.is(s.attributes['order.id'], 'ORD-2024-000123');
  assert.equal(tally.entries(), [{ dataClass: 'spans', field: 'span.attributes.order.note', cls: 'tenant_identifier', count: 1 }]);
});

test('a JWT in a log body becomes a jwt marker', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
  const rec = logRecord(scope(), `token rejected: ${jwt}`, 'string');
  const tally = new RedactionTally();
  redactor.redactLogs(acme, [group([rec])], tally);
  assert.is(rec.body, `token rejected: ${expectedMarker('acme-dist', 'jwt', jwt)}`);
  assert.equal(counts(tally), { 'logs log.body jwt': 1 });
});

test('a card number in an audit attribute map becomes a card_number marker; Luhn failures and unknown IINs stay', () => {
  const attrs: Attributes = {
    'payment.card': '4111 1111 1111 1111',
    'payment.card2': 'card 5555-5555-5555-4444 exp 12/27',
    'payment.amex': '378282246310005',
    'payment.not_luhn': '4111 1111 1111 1112',
    'payment.not_iin': '9111111111111119',
    reason: 'refund check',
  };
  const tally = new RedactionTally();
  redactor.redactAttributes(acme, attrs, 'audit_events', 'audit.attributes', tally);
  assert.is(attrs['payment.card'], expectedMarker('acme-dist', 'card_number', '4111 1111 1111 1111'));
  assert.is(attrs['payment.card2'], `card ${expectedMarker('acme-dist', 'card_number', '5555-5555-5555-4444')} exp 12/27`);
  assert.is(attrs['payment.amex'], expectedMarker('acme-dist', 'card_number', '378282246310005'));
  assert.is(attrs['payment.not_luhn'], '4111 1111 1111 1112');
  assert.is(attrs['payment.not_iin'], '9111111111111119');
  assert.is(attrs.reason, 'refund check');
  assert.equal(counts(tally), {
    'audit_events audit.attributes.payment.card card_number': 1,
    'audit_events audit.attributes.payment.card2 card_number': 1,
    'audit_events audit.attributes.payment.amex card_number': 1,
  });
});

test('only the password of a DB connection string is redacted', () => {
  const { out, tally } = redact(acme, 'postgres://app:S3cr3t!@db:5432/orders');
  assert.is(out, `postgres://app:${expectedMarker('acme-dist', 'password', 'S3cr3t!')}@db:5432/orders`);
  assert.is(tally.total(), 1);
  assert.is(redact(acme, 'redis://:hunter2@cache:6379/0').out, `redis://:${expectedMarker('acme-dist', 'password', 'hunter2')}@cache:6379/0`);
  assert.is(redact(acme, 'amqp://u:p@ss@mq/vhost').out, `amqp://u:${expectedMarker('acme-dist', 'password', 'p@ss')}@mq/vhost`);
});

test('password, pwd and secret key=value pairs lose their value, bind parameters and masks do not count', () => {
  assert.equal(markerClasses(redact(acme, 'login password=hunter2 user=bob').out), ['password']);
  assert.is(redact(acme, 'login password=hunter2 user=bob').out, `login password=${expectedMarker('acme-dist', 'password', 'hunter2')} user=bob`);
  assert.equal(markerClasses(redact(acme, 'Server=db;Uid=app;Pwd=Tr0ub4dor&3;').out), ['password']);
  assert.equal(markerClasses(redact(acme, 'client_secret: "kq8L2mN0pQ"').out), ['password']);
  assert.equal(markerClasses(redact(acme, 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY').out), ['password']);
  assert.equal(markerClasses(redact(acme, "DB_PASSWORD='correct horse battery staple'").out), ['password']);
  for (const clean of ['UPDATE users SET password = $1 WHERE id = $2', 'password=******', 'password: <redacted>', 'PWD=/home/app', 'password reset requested']) {
    assert.is(redact(acme, clean).out, clean, clean);
  }
});

test('an AWS access key id becomes a cloud_key marker, and so does a Google API key', () => {
  assert.is(redact(acme, 'uploaded with AKIAIOSFODNN7EXAMPLE').out, `uploaded with ${expectedMarker('acme-dist', 'cloud_key', 'AKIAIOSFODNN7EXAMPLE')}`);
  assert.equal(markerClasses(redact(acme, 'sts ASIAY34FZKBOKMUTVV7A').out), ['cloud_key']);
  assert.equal(markerClasses(redact(acme, 'maps key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY').out), ['cloud_key']);
  // Not a key: too short, lower case, or part of a longer token.
  for (const clean of ['AKIA1234', 'akiaiosfodnn7example', 'XAKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLEX']) assert.is(redact(acme, clean).out, clean);
});

test('GitHub, Slack, Stripe and generic api_key values become api_key markers', () => {
  const cases = [
    'ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'rk_live_51H8abcdefghijklmnop',
  ];
  for (const secret of cases) assert.is(redact(acme, `key ${secret} used`).out, `key ${expectedMarker('acme-dist', 'api_key', secret)} used`, secret);
  assert.is(redact(acme, 'api_key=9f86d081884c7d65').out, `api_key=${expectedMarker('acme-dist', 'api_key', '9f86d081884c7d65')}`);
  assert.equal(markerClasses(redact(acme, 'X-Api-Key: Zm9vYmFyYmF6cXV4').out), ['api_key']);
  assert.equal(markerClasses(redact(acme, '{"apikey": "0c5d2b6a7e"}').out), ['secret_attribute']);
});

test('a PEM private key becomes one private_key marker, with or without its END line', () => {
  const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----';
  const { out, tally } = redact(acme, `key loaded: ${pem} (rotated)`);
  assert.is(out, `key loaded: ${expectedMarker('acme-dist', 'private_key', pem)} (rotated)`);
  assert.is(tally.total(), 1);
  for (const label of ['PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']) {
    const truncated = `-----BEGIN ${label}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMx`;
    assert.is(redact(acme, truncated).out, expectedMarker('acme-dist', 'private_key', truncated), label);
  }
  // A public key or certificate is not a secret.
  const cert = '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----';
  assert.is(redact(acme, cert).out, cert);
});

test('a bearer header keeps its scheme and loses its token; an authorization attribute is redacted whole', () => {
  const token = 'mF_9.B5f-4.1JqM';
  assert.is(redact(acme, `Authorization: Bearer ${token}`).out, `Authorization: Bearer ${expectedMarker('acme-dist', 'bearer_token', token)}`);
  assert.equal(markerClasses(redact(acme, 'bearer 8f14e45fceea167a5a36dedd4bea2543').out), ['bearer_token']);
  assert.equal(markerClasses(redact(acme, 'Authorization: Basic dXNlcjpodW50ZXIy').out), ['password']);
  assert.is(redact(acme, 'Bearer authentication failed').out, 'Bearer authentication failed');
  const attrs: Attributes = { 'http.request.header.authorization': '["Bearer abc.def.ghi"]', 'http.request.header.cookie': 'session=s3cr3t', 'http.route': '/orders' };
  const tally = new RedactionTally();
  redactor.redactAttributes(acme, attrs, 'spans', 'span.attributes', tally);
  // An array attribute stays a JSON array, with each element replaced.
  assert.equal(JSON.parse(attrs['http.request.header.authorization']!), [expectedMarker('acme-dist', 'secret_attribute', 'Bearer abc.def.ghi')]);
  assert.is(attrs['http.request.header.cookie'], expectedMarker('acme-dist', 'secret_attribute', 'session=s3cr3t'));
  assert.is(attrs['http.route'], '/orders');
  assert.equal(counts(tally), {
    'spans span.attributes.http.request.header.authorization secret_attribute': 1,
    'spans span.attributes.http.request.header.cookie secret_attribute': 1,
  });
});

test('secret-looking attribute keys are recognised case-insensitively and as the last dotted segment', () => {
  const secret = ['password', 'PASSWD', 'Secret', 'token', 'Authorization', 'api_key', 'apikey', 'api-key', 'cookie', 'Set-Cookie', 'credential', 'credentials', 'private_key'];
  for (const k of secret) {
    assert.ok(isSecretKey(k), k);
    assert.ok(isSecretKey(`http.request.header.${k}`), `dotted ${k}`);
  }
  for (const k of ['db_password', 'x-api-key', 'oauth.access_token', 'proxy-authorization']) assert.ok(isSecretKey(k), k);
  for (const k of ['password.length', 'tokens', 'gen_ai.usage.input_tokens', 'secretary', 'http.route', 'token.count', 'pwd']) assert.not.ok(isSecretKey(k), k);
});

test('email, phone and IP addresses are redacted when the tenant enables them and not otherwise', () => {
  const text = 'buyer jane.doe@example.org called +1 (415) 555-2671 from 203.0.113.7 and 2001:db8::8a2e:370:7334';
  // acme: email and phone.
  assert.equal(markerClasses(redact(acme, text).out), ['email', 'phone']);
  assert.ok(redact(acme, text).out.includes('203.0.113.7'));
  // hooli: email only; initech: nothing.
  assert.equal(markerClasses(redact(hooli, text).out), ['email']);
  assert.is(redact(initech, text).out, text);
  // northwind: everything.
  const all = redact(northwind, text, allPiiRedactor);
  assert.equal(markerClasses(all.out), ['email', 'phone', 'ip_address', 'ip_address']);
  assert.is(all.out, [
    'buyer ', expectedMarker('northwind-traders', 'email', 'jane.doe@example.org'),
    ' called ', expectedMarker('northwind-traders', 'phone', '+1 (415) 555-2671'),
    ' from ', expectedMarker('northwind-traders', 'ip_address', '203.0.113.7'),
    ' and ', expectedMarker('northwind-traders', 'ip_address', '2001:db8::8a2e:370:7334'),
  ].join(''));
});

test('phone formats: E.164 and NANP with separators; dates, versions and bare digit runs are not phones', () => {
  for (const phone of ['+14155552671', '+44 20 7946 0958', '+49 (30) 901820', '415-555-2671', '(415) 555-2671', '415.555.2671', '1-800-555-0199']) {
    assert.equal(markerClasses(redact(acme, `call ${phone} now`).out), ['phone'], phone);
  }
  for (const clean of ['2024-06-20', '4155552671', '123-456-7890', 'v1.2.3', '10.0.19045.4529', 'offset +05:30', '1.5e+21', 'SKU-555-2671']) {
    assert.is(redact(acme, clean).out, clean, clean);
  }
});

test('IP addresses: v4 and v6 forms are found; loopback, unspecified, versions and times are not', () => {
  for (const ip of ['10.1.2.3', '192.168.100.254', '2001:db8::1', 'fe80::1ff:fe23:4567:890a%eth0', '::ffff:192.0.2.128', '2001:0db8:85a3:0000:0000:8a2e:0370:7334']) {
    assert.equal(markerClasses(redact(northwind, `peer ${ip} closed`, allPiiRedactor).out), ['ip_address'], ip);
  }
  for (const clean of ['127.0.0.1', '0.0.0.0', '::1', '::', 'Chrome/120.0.0.0 Safari/537.36', '12:30:45', '256.1.1.1', '1.2.3.4.5', '00:1a:2b:3c:4d:5e', 'std::vector', 'dead:beef::']) {
    assert.is(redact(northwind, clean, allPiiRedactor).out, clean, clean);
  }
});

test('IBANs pass the mod-97 check and the country length before they are redacted', () => {
  assert.ok(ibanValid('DE89370400440532013000'));
  assert.not.ok(ibanValid('DE89370400440532013001'));
  assert.is(redact(northwind, 'pay to DE89 3704 0044 0532 0130 00 EUR', allPiiRedactor).out, `pay to ${expectedMarker('northwind-traders', 'iban', 'DE89 3704 0044 0532 0130 00')} EUR`);
  assert.equal(markerClasses(redact(northwind, 'GB82WEST12345698765432', allPiiRedactor).out), ['iban']);
  assert.is(redact(northwind, 'DE89 3704 0044 0532 0130 01', allPiiRedactor).out, 'DE89 3704 0044 0532 0130 01');
  assert.is(redact(acme, 'DE89 3704 0044 0532 0130 00').out, 'DE89 3704 0044 0532 0130 00', 'iban is not enabled for acme');
});

// ---------------------------------------------------------------------------------------------
// Markers

test('a marker is [REDACTED:<class>:<8 hex of HMAC-SHA256 under the per-tenant key>]', () => {
  const m = redactor.marker(acme, 'email', 'jane.doe@example.org');
  assert.match(m, WHOLE_MARKER_RE);
  assert.is(m, expectedMarker('acme-dist', 'email', 'jane.doe@example.org'));
  // Markers have no quote or backslash, so they can sit inside JSON strings as they are.
  assert.not.match(m, /["\\]/);
});

test('the same value in the same tenant gives the same marker, across redactor instances', () => {
  const again = new Redactor(demo, Buffer.from(KEY));
  const a = redact(hooli, 'order for CUST-10442 shipped').out;
  const b = redact(hooli, 'refund for CUST-10442 issued', again).out;
  assert.is(a.match(MARKER_RE)![0], b.match(MARKER_RE)![0]);
});

test('another tenant or another master key gives a different marker for the same value', () => {
  const raw = '4111111111111111';
  const inAcme = redact(acme, raw).out;
  const inHooli = redact(hooli, raw).out;
  const otherKey = redact(acme, raw, new Redactor(demo, Buffer.alloc(32, 1))).out;
  assert.match(inAcme, WHOLE_MARKER_RE);
  assert.is.not(inAcme, inHooli);
  assert.is.not(inAcme, otherKey);
});

test('markers already in a value are left alone, so redacting twice changes nothing and counts nothing', () => {
  const once = redact(acme, 'order CUST-20517 by ops@hooli-wholesale.example.com, Bearer 8f14e45fceea167a5a36d, api_key=abcdef123456').out;
  const twice = redact(acme, once);
  assert.is(twice.out, once);
  assert.is(twice.tally.total(), 0);
  for (const m of once.match(MARKER_RE)!) assert.is(redact(acme, `token: ${m}`).tally.total(), 0, m);
});

test('a master key shorter than 16 bytes is refused', () => {
  try {
    new Redactor(demo, Buffer.from('short'));
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.ok(isTenantscopeError(e));
    assert.is(e.code, 'TS_ERR_CONFIG');
    assert.not.ok(e.message.includes('short'));
  }
});

// ---------------------------------------------------------------------------------------------
// Tenant identifiers

test("a tenant's own identifiers are never redacted, in any case or position", () => {
  const own = 'acme-dist ships for ACME (Acme, acme) as CUST-10442 via ops@acme-dist.example.com and https://portal.acme-dist.example.com/x';
  assert.is(redact(acme, own).out.replace(MARKER_RE, '<m>'), 'acme-dist ships for ACME (Acme, acme) as CUST-10442 via <m> and https://portal.acme-dist.example.com/x');
  // The email address is PII for acme, but only its local part + domain as a whole.
  assert.equal(markerClasses(redact(acme, own).out), ['email']);
  const s = span(scope(), { attributes: { 'tenant.id': 'acme-dist', 'customer.code': 'CUST-10442' } });
  const tally = new RedactionTally();
  redactor.redactSpans(acme, [group([s], { 'tenant.id': 'acme-dist', 'service.name': 'acme-dist-orders' })], tally);
  assert.equal(s.attributes, { 'tenant.id': 'acme-dist', 'customer.code': 'CUST-10442' });
  assert.is(tally.total(), 0);
});

test('identifiers of every other tenant are redacted from a tenant’s data', () => {
  for (const t of demo.tenants()) {
    for (const other of demo.tenants()) {
      if (other.id === t.id) continue;
      for (const ident of other.identifiers) {
        const { out, tally } = redact(t, `ref ${ident} end`);
        assert.is(out, `ref ${expectedMarker(t.id, 'tenant_identifier', ident)} end`, `${ident} in ${t.id}`);
        assert.is(tally.total(), 1);
      }
    }
  }
});

test('identifiers match as whole tokens only, case-insensitively', () => {
  const hit = (text: string) => markerClasses(redact(hooli, text).out).length;
  assert.is(hit('order for CUST-10442 shipped'), 1);
  assert.is(hit('order for cust-10442 shipped'), 1);
  assert.is(hit('ops@acme-dist.example.com'), 1);
  assert.is(hit('https://acme-dist.example.com/orders?x=1'), 1);
  assert.is(hit('"ACME"'), 1);
  assert.is(hit('ACME_WAREHOUSE'), 1);
  assert.is(hit('acme.'), 1);
  assert.is(hit('ACMEX'), 0);
  assert.is(hit('PACME'), 0);
  assert.is(hit('acme2'), 0);
  assert.is(hit('CUST-104420'), 0);
  assert.is(hit('XCUST-10442'), 0);
  // "-" is a boundary, so the short name ACME is a token of "acme-distribution" (the identifier
  // "acme-dist" is not: "r" follows it).
  assert.is(redact(hooli, 'acme-distribution').out, `${expectedMarker('hooli-wholesale', 'tenant_identifier', 'acme')}-distribution`);
  // The longest identifier wins: the domain is one marker, not "acme-dist" plus a tail (initech
  // has no PII enabled; for hooli the whole address would be one marker, see the next test).
  assert.is(redact(initech, 'ops@acme-dist.example.com').out, `ops@${expectedMarker('initech-retail', 'tenant_identifier', 'acme-dist.example.com')}`);
  assert.is(redact(hooli, 'ops@acme-dist.example.com').out, expectedMarker('hooli-wholesale', 'tenant_identifier', 'ops@acme-dist.example.com'));
  // Letters of other scripts are letters too.
  assert.is(hit('éACME'), 0);
});

test("the matcher reports the longest identifier ending at each place, and a tenant's own shields another's inside it", () => {
  const reg = registryOf(tenantYaml('owner-co', ['shop.example.com']) + tenantYaml('other-co', ['example.com', 'EXMPL']), 'shield.yaml');
  const m = IdentifierMatcher.forRegistry(reg);
  assert.is(IdentifierMatcher.forRegistry(reg), m, 'built once per registry');
  assert.equal(m.find('see shop.example.com now'), [{ start: 4, end: 20, owner: 'owner-co' }]);
  const r = new Redactor(reg, KEY);
  assert.is(redact(reg.tenant('owner-co')!, 'see shop.example.com and example.com', r).out, `see shop.example.com and ${expectedMarker('owner-co', 'tenant_identifier', 'example.com')}`);
  assert.is(redact(reg.tenant('other-co')!, 'see shop.example.com', r).out, `see ${expectedMarker('other-co', 'tenant_identifier', 'shop.example.com')}`);
});

// ---------------------------------------------------------------------------------------------
// Records, shared objects, JSON

test('every string of a span is scanned: resource, scope, name, attributes, events, links, status', () => {
  const leak = 'CUST-20517';
  const sc = scope({ 'lib.owner': leak });
  const s = span(sc, {
    name: `charge ${leak}`,
    attributes: { note: leak },
    events: [{ timeUnixNano: '1', name: `event ${leak}`, attributes: { e: leak }, droppedAttributesCount: 0 }],
    links: [{ traceId: '', spanId: '', traceState: '', attributes: { l: leak }, droppedAttributesCount: 0, flags: 0 }],
    statusCode: 2,
    statusMessage: `failed for ${leak}`,
  });
  const tally = new RedactionTally();
  redactor.redactSpans(acme, [group([s], { 'service.name': 'order-api', owner: leak })], tally);
  assert.not.ok(JSON.stringify(s).includes(leak));
  assert.equal(counts(tally), {
    'spans resource.attributes.owner tenant_identifier': 1,
    'spans scope.attributes.lib.owner tenant_identifier': 1,
    'spans span.name tenant_identifier': 1,
    'spans span.attributes.note tenant_identifier': 1,
    'spans span.events.name tenant_identifier': 1,
    'spans span.events.attributes.e tenant_identifier': 1,
    'spans span.links.attributes.l tenant_identifier': 1,
    'spans span.status_message tenant_identifier': 1,
  });
});

test('a Scope and a Resource shared by many items are redacted and counted once', () => {
  const sc = scope({ 'lib.owner': 'CUST-20517' });
  const spans = [span(sc), span(sc), span(sc)];
  const tally = new RedactionTally();
  redactor.redactSpans(acme, [group(spans)], tally);
  assert.equal(counts(tally), { 'spans scope.attributes.lib.owner tenant_identifier': 1 });
  assert.ok(spans.every((s) => s.scope.attributes['lib.owner'] === expectedMarker('acme-dist', 'tenant_identifier', 'CUST-20517')));

  // The same through the real protobuf decoder, whose items share one Scope and one Resource.
  const decoded = decodeOtlp('traces', protobufTraces({ resource: { 'deployment.owner': 'CUST-20517' }, spans: 5 }), 'protobuf');
  assert.is(decoded.groups[0]!.items.length, 5);
  const t2 = new RedactionTally();
  redactor.redactSpans(acme, decoded.groups, t2);
  assert.equal(counts(t2), { 'spans resource.attributes.deployment.owner tenant_identifier': 1 });
});

test('log bodies: strings and kvlists are scanned, bytes bodies are left alone; kvlists stay valid JSON', () => {
  const kvlist = JSON.stringify({
    customer: 'CUST-20517',
    password: 'hunter2',
    note: 'line one\nCUST-20517 on "line" two',
    nested: { token: 123456, list: ['ops@hooli-wholesale.example.com', 'fine'] },
    'CUST-20517': 'as a key',
    card: 4111111111111111,
    ok: true,
  });
  const recs = [logRecord(scope(), kvlist, 'kvlist'), logRecord(scope(), 'Q1VTVC0yMDUxNw==CUST-20517', 'bytes'), logRecord(scope(), '["CUST-20517","x\\"y"]', 'array')];
  const tally = new RedactionTally();
  redactor.redactLogs(acme, [group(recs)], tally);
  const body = JSON.parse(recs[0]!.body) as Record<string, unknown>;
  const m = (cls: RedactionClass, raw: string) => expectedMarker('acme-dist', cls, raw);
  assert.equal(body, {
    customer: m('tenant_identifier', 'CUST-20517'),
    password: m('secret_attribute', 'hunter2'),
    note: `line one\n${m('tenant_identifier', 'CUST-20517')} on "line" two`,
    nested: { token: m('secret_attribute', '123456'), list: [m('tenant_identifier', 'ops@hooli-wholesale.example.com'), 'fine'] },
    [m('tenant_identifier', 'CUST-20517')]: 'as a key',
    card: m('card_number', '4111111111111111'),
    ok: true,
  });
  assert.is(recs[1]!.body, 'Q1VTVC0yMDUxNw==CUST-20517', 'bytes bodies are binary, not text');
  assert.equal(JSON.parse(recs[2]!.body), [m('tenant_identifier', 'CUST-20517'), 'x"y']);
});

test('a string body holding JSON is walked as JSON too, \\u escapes included', () => {
  const body = '{"level":"info","msg":"refund for \\u0043UST-20517","auth":{"api_key":"k-123456789"}}';
  const { out, tally } = redact(acme, body);
  assert.equal(JSON.parse(out), {
    level: 'info',
    msg: `refund for ${expectedMarker('acme-dist', 'tenant_identifier', 'CUST-20517')}`,
    auth: { api_key: expectedMarker('acme-dist', 'secret_attribute', 'k-123456789') },
  });
  assert.is(tally.total(), 2);
});

test('secrets longer than the patterns\' bounds are redacted to their last character', () => {
  const long = (unit: string, n: number) => unit.repeat(n);
  const cases: [string, string, string, RedactionClass][] = [
    ['Bearer ', `${long('Ab1', 5000)}==`, '', 'bearer_token'],
    ['password=', long('p4ss', 1000), '', 'password'],
    ['password="', long('p4 ss', 1000), '"', 'password'],
    ['', `eyJ${long('h', 9000)}.${long('p', 100_000)}.${long('s', 9000)}`, '', 'jwt'],
    ['', `ghp_${long('A1', 300)}`, '', 'api_key'],
    ['', `-----BEGIN RSA PRIVATE KEY-----\n${long('MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n', 2000)}-----END RSA PRIVATE KEY-----`, '', 'private_key'],
  ];
  for (const [prefix, secret, suffix, cls] of cases) {
    const { out } = redact(acme, `${prefix}${secret}${suffix} tail`);
    assert.is(out, `${prefix}${expectedMarker('acme-dist', cls, secret)}${suffix} tail`, `${cls} of ${secret.length} chars`);
  }
});

test('a JSON text that does not parse is scanned as text, and a match never crosses an escaped quote', () => {
  const broken = '{"msg":"password=\\"hunter2\\" and more", "cut';
  const { out } = redact(acme, broken);
  assert.is(out, `{"msg":"password=\\"${expectedMarker('acme-dist', 'password', 'hunter2')}\\" and more", "cut`);
});

test('metric point and exemplar attributes are redacted', () => {
  const sc = scope();
  const p: MetricPoint = emptyMetricPoint(sc, 'sum');
  p.attributes = { 'mail.domain': 'globex-3pl.example.com' };
  p.exemplars = [{ timeUnixNano: '1', value: 1, traceId: '', spanId: '', filteredAttributes: { 'enduser.email': 'jane.doe@example.org' } }];
  const tally = new RedactionTally();
  redactor.redactMetrics(acme, [group([p])], tally);
  assert.is(p.attributes['mail.domain'], expectedMarker('acme-dist', 'tenant_identifier', 'globex-3pl.example.com'));
  assert.equal(counts(tally), {
    'metric_points metric.attributes.mail.domain tenant_identifier': 1,
    'metric_points metric.exemplars.attributes.enduser.email email': 1,
  });
});

test('counts are kept per data class, field and class; long keys are cut to 64 characters', () => {
  const tally = new RedactionTally();
  const longKey = `app.${'k'.repeat(100)}`;
  const attrs: Attributes = { [longKey]: 'CUST-20517 and CUST-31876', other: 'AKIAIOSFODNN7EXAMPLE' };
  redactor.redactAttributes(acme, attrs, 'audit_events', 'audit.attributes', tally);
  redactor.redactAttributes(acme, { other: 'AKIAIOSFODNN7EXAMPLE' }, 'audit_events', 'audit.attributes', tally);
  assert.equal(counts(tally), {
    [`audit_events audit.attributes.${longKey.slice(0, 64)} tenant_identifier`]: 2,
    'audit_events audit.attributes.other cloud_key': 2,
  });
  assert.is(tally.total(), 4);
  assert.is(fieldPath('x', `a${'\u{1F600}'.repeat(40)}`).length, 'x.'.length + 63, 'never cut inside a surrogate pair');
  const other = new RedactionTally();
  other.add('spans' as RedactedDataClass, 'span.name', 'jwt', 3);
  tally.merge(other);
  assert.is(tally.total(), 7);
});

test('no raw secret appears in the counts, their fields or their classes', () => {
  const secrets = {
    'order.note': 'order for CUST-20517 shipped',
    jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTE4NDIifQ.c2lnbmF0dXJlLW5vdC1yZWFs',
    conn: 'postgres://app:S3cr3t!@db:5432/orders',
    card: '4111 1111 1111 1111',
    aws: 'AKIAIOSFODNN7EXAMPLE',
    mail: 'jane.doe@example.org',
    phone: '+1 415 555 2671',
    password: 'correct-horse-battery-staple',
  };
  const attrs: Attributes = { ...secrets };
  const tally = new RedactionTally();
  redactor.redactAttributes(acme, attrs, 'spans', 'span.attributes', tally);
  const text = JSON.stringify(tally.entries());
  for (const raw of ['CUST-20517', 'eyJhbGciOiJIUzI1NiJ9', 'S3cr3t!', '4111 1111', 'AKIAIOSFODNN7EXAMPLE', 'jane.doe', '555 2671', 'correct-horse']) {
    assert.not.ok(text.includes(raw), raw);
    assert.not.ok(JSON.stringify(attrs).includes(raw), `${raw} left in the attributes`);
  }
  assert.is(tally.total(), Object.keys(secrets).length);
});

// ---------------------------------------------------------------------------------------------
// Checksums and the pre-check

test('Luhn and IIN checks: networks, lengths, and a 19-digit nanosecond timestamp never matches', () => {
  assert.ok(luhnValid('4111111111111111'));
  assert.not.ok(luhnValid('4111111111111112'));
  assert.is(cardNetwork('4111111111111111'), 'visa');
  assert.is(cardNetwork('2221000000000009'), 'mastercard');
  assert.is(cardNetwork('378282246310005'), 'amex');
  assert.is(cardNetwork('6011111111111117'), 'discover');
  assert.is(cardNetwork('3530111333300000'), 'jcb');
  assert.is(cardNetwork('30569309025904'), 'diners');
  assert.is(cardNetwork('1718900000123456789'), undefined);
  assert.not.ok(isCardNumber('378282246310005' + '0'), 'amex has 15 digits');
  for (const ns of ['1718900000123456789', '1795162530000000000', '2250000000000000000', '4000000000000000006']) {
    assert.is(redact(acme, `t=${ns}`).out, `t=${ns}`, ns);
    assert.is(redact(acme, `${ns}`).out, ns, ns);
  }
  // Trade-offs in one piece: 13 digits are EAN-13 barcodes (this one passes Luhn with a Visa
  // prefix), 17-19 digits are 64-bit decimal ids; grouped, the same lengths still count.
  assert.ok(luhnValid('4006381333924') && gs1Valid('4006381333924'));
  assert.is(redact(acme, 'EAN 4006381333924').out, 'EAN 4006381333924');
  assert.equal(markerClasses(redact(acme, 'card 4222 2222 2222 2').out), ['card_number']);
  // Inside a longer digit run, or glued to letters or a decimal point, a valid number is not a card.
  for (const clean of ['94111111111111111', '41111111111111119', 'id4111111111111111', '0.4111111111111111', '4111111111111111.5']) {
    assert.is(redact(acme, clean).out, clean, clean);
  }
});

test('the pre-check never says no when the full scan would find something', () => {
  const all = patternSetFor(PII_CLASSES);
  const samples = [...cleanValues(2000, 7), ...LEAK_SAMPLES];
  let found = 0;
  for (const s of samples) {
    if (all.scan(s).length > 0) {
      found++;
      assert.ok(mayContainPattern(s), s);
    }
  }
  assert.ok(found >= LEAK_SAMPLES.length - 2, `found ${found}`);
  for (const s of ['hello world', '/api/orders', 'SELECT id FROM t', 'GET', 'checkout.internal']) assert.not.ok(mayContainPattern(s), s);
});

const LEAK_SAMPLES = [
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTE4NDIifQ.c2lnbmF0dXJlLW5vdC1yZWFs',
  'Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543',
  'bearer 8f14e45fceea167a5a36dedd4bea2543',
  'Basic dXNlcjpodW50ZXIy',
  'AKIAIOSFODNN7EXAMPLE',
  'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY',
  'ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R',
  'xoxb-123456789012-1234567890123-AbCdEfGhIjKl',
  'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  'postgres://app:S3cr3t!@db:5432/orders',
  'password=hunter2',
  '-----BEGIN PRIVATE KEY-----\nMIIEow\n-----END PRIVATE KEY-----',
  '4111 1111 1111 1111',
  '4111111111111111',
  'jane.doe@example.org',
  '+1 415 555 2671',
  '(415) 555-2671',
  '10.1.2.3',
  '2001:db8::1',
  'DE89 3704 0044 0532 0130 00',
];

// ---------------------------------------------------------------------------------------------
// 10,000 realistic clean values

/** mulberry32: a tiny seeded PRNG, so the fixture is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(0, alphabet.length - 1)]).join('');
  const hex = (n: number) => chars('0123456789abcdef', n);
  const b64 = (bytes: number) => Buffer.from(Array.from({ length: bytes }, () => int(0, 255))).toString('base64');
  const digits = (n: number) => String(int(1, 9)) + chars('0123456789', n - 1);
  return { next, int, pick, chars, hex, b64, digits };
}
type Rng = ReturnType<typeof rng>;

const WORDS = ['order', 'cart', 'checkout', 'inventory', 'shipment', 'invoice', 'payment', 'warehouse', 'pallet', 'carrier', 'manifest', 'refund', 'sku', 'route', 'dock', 'picker', 'batch', 'queue', 'retry', 'timeout'];
const SERVICES = ['order-api', 'inventory-svc', 'edi-gateway', 'warehouse-scanner', 'billing-svc', 'checkout', 'pricing', 'notifier'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function rfc3339(r: Rng): string {
  const base = `${r.int(2019, 2027)}-${pad(r.int(1, 12))}-${pad(r.int(1, 28))}T${pad(r.int(0, 23))}:${pad(r.int(0, 59))}:${pad(r.int(0, 59))}`;
  const frac = r.pick(['', `.${r.digits(3)}`, `.${r.digits(6)}`, `.${r.digits(9)}`]);
  return base + frac + r.pick(['Z', '+00:00', '+02:00', '-05:00', '+05:30']);
}

const GENERATORS: ((r: Rng) => string)[] = [
  (r) => `${r.hex(8)}-${r.hex(4)}-4${r.hex(3)}-${r.pick(['8', '9', 'a', 'b'])}${r.hex(3)}-${r.hex(12)}`,
  (r) => r.hex(32),
  (r) => r.hex(16),
  (r) => r.hex(16).toUpperCase(),
  rfc3339,
  (r) => `17${r.digits(17).slice(0, 17)}`.slice(0, 19),
  (r) => String(1_700_000_000_000 + r.int(0, 99_999_999_999)),
  (r) => String(1_700_000_000 + r.int(0, 99_999_999)),
  (r) => String(BigInt(r.int(1, 2 ** 31 - 1)) * 4294967296n + BigInt(r.int(0, 2 ** 32 - 1))),
  (r) => `1${r.digits(18)}`,
  (r) => r.hex(40),
  (r) => r.hex(64),
  (r) => `sha256-${r.b64(32)}`,
  (r) => `sha512-${r.b64(64)}`,
  (r) => r.b64(16),
  (r) => `sha256:${r.hex(64)}`,
  (r) => r.hex(7),
  (r) => `${r.int(0, 20)}.${r.int(0, 40)}.${r.int(0, 200)}`,
  (r) => `v${r.int(0, 9)}.${r.int(0, 20)}.${r.int(0, 9)}-${r.pick(['rc', 'beta', 'alpha'])}.${r.int(1, 9)}`,
  (r) => `${r.int(0, 9)}.${r.int(0, 9)}.${r.int(0, 9)}+build.${r.int(1, 999)}`,
  (r) => `1.0.0+${r.digits(14)}`,
  (r) => `https://api.example.com/v1/${r.pick(WORDS)}s/${r.int(1, 99999)}?page=${r.int(1, 50)}&limit=${r.pick([10, 50, 100])}`,
  (r) => `http://${r.pick(SERVICES)}.shop.svc.cluster.local:${r.pick([8080, 8443, 9090, 50051])}/${r.pick(WORDS)}`,
  (r) => `grpc://${r.pick(SERVICES)}:50051/shop.v1.${r.pick(['Order', 'Cart', 'Stock'])}Service/Get`,
  (r) => `s3://datalake-prod/${r.pick(WORDS)}/dt=2024-06-${pad(r.int(1, 28))}/part-${pad(r.int(0, 999), 5)}.parquet`,
  (r) => `https://portal.northwind.example.net/${r.pick(WORDS)}/${r.int(1, 9999)}`,
  (r) => `SELECT id, sku, qty FROM ${r.pick(WORDS)}_items WHERE ${r.pick(WORDS)}_id = $1 AND status = 'open' LIMIT ${r.int(1, 500)}`,
  (r) => `UPDATE users SET password_hash = $1, updated_at = now() WHERE id = $${r.int(2, 9)}`,
  () => 'INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, $3)',
  (r) => `SELECT * FROM orders WHERE created_at > '2024-06-${pad(r.int(1, 28))} 00:00:00' ORDER BY id DESC`,
  (r) => `${r.pick(SERVICES)}-${r.hex(9).replace(/^[0-9]/, 'f')}-${r.chars('bcdfghjklmnpqrstvwxz2456789', 5)}`,
  (r) => `ip-10-0-${r.int(0, 255)}-${r.int(0, 255)}.eu-west-1.compute.internal`,
  (r) => `/var/log/pods/shop_${r.pick(SERVICES)}-${r.hex(9)}_${r.hex(8)}/${r.pick(SERVICES)}/${r.int(0, 9)}.log`,
  (r) => `src/handlers/${r.pick(WORDS)}.ts:${r.int(1, 900)}:${r.int(1, 80)}`,
  (r) => `C:\\Program Files\\Shop\\${r.pick(WORDS)}.exe`,
  (r) => `/api/${r.pick(WORDS)}s/{id}/${r.pick(WORDS)}`,
  (r) => r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
  (r) => String(r.pick([200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503])),
  (r) => `${r.int(1, 999)}ms`,
  (r) => `${(r.next() * 30).toFixed(r.int(0, 3))}s`,
  (r) => `PT${r.int(1, 23)}H${r.int(1, 59)}M`,
  (r) => String(r.next() * 1000),
  (r) => String(r.int(0, 1_000_000)),
  (r) => (r.next() * 500).toFixed(2),
  (r) => `USD ${r.int(1, 9)},${r.digits(3)}.${r.digits(2)}`,
  (r) => `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${r.int(100, 130)}.0.0.0 Safari/537.36`,
  (r) => `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${r.int(0, 5)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${r.int(0, 5)} Mobile/15E148 Safari/604.1`,
  (r) => `okhttp/4.${r.int(0, 12)}.${r.int(0, 9)}`,
  (r) => `${r.pick(WORDS)} ORD-${r.int(2020, 2026)}-${pad(r.int(0, 999999), 6)} moved to ${r.pick(WORDS)} WH-${pad(r.int(1, 40))}`,
  (r) => `retrying in ${r.int(10, 900)}ms (attempt ${r.int(1, 5)}/5)`,
  (r) => `cache miss for key ${r.pick(WORDS)}:${r.hex(8)}`,
  (r) => `GET /api/${r.pick(WORDS)}s/${r.int(1, 99999)} ${r.pick([200, 404, 500])} ${(r.next() * 100).toFixed(1)}ms`,
  (r) => r.pick(['connection reset by peer', 'context deadline exceeded', 'upstream connect error or disconnect/reset before headers', 'EOF', 'broken pipe']),
  (r) => `user u-${r.int(1, 999999)} logged in from ${r.pick(['web', 'ios', 'android'])}`,
  (r) => `invoice for CUST-77120 paid (${r.int(1, 99)} lines)`,
  (r) => `NORTHWIND-WH-${pad(r.int(1, 20))} dock ${r.int(1, 12)}`,
  (r) => JSON.stringify([r.pick(WORDS), r.pick(WORDS), String(r.int(1, 99))]),
  (r) => JSON.stringify({ sku: `SKU-${r.int(10000, 99999)}`, qty: String(r.int(1, 20)), warehouse: `WH-${pad(r.int(1, 40))}` }),
  (r) => JSON.stringify({ event: r.pick(WORDS), at: rfc3339(r), trace_id: r.hex(32), attempt: r.int(1, 5) }),
  (r) => `registry.example.com/shop/${r.pick(SERVICES)}:${r.int(1, 9)}.${r.int(0, 20)}.${r.int(0, 9)}@sha256:${r.hex(64)}`,
  (r) => `arn:aws:sqs:us-east-1:${r.digits(12)}:${r.pick(WORDS)}-queue`,
  (r) => `arn:aws:s3:::${r.pick(WORDS)}-bucket/${r.pick(WORDS)}`,
  (r) => `${r.pick(WORDS)}-events-${r.int(0, 11)}@${r.int(0, 9_999_999)}`,
  (r) => `at com.example.shop.${r.pick(['Order', 'Cart', 'Stock'])}Service.place(${r.pick(['Order', 'Cart', 'Stock'])}Service.java:${r.int(1, 900)})`,
  (r) => `main.go:${r.int(1, 900)} +0x${r.hex(3)}`,
  (r) => `goroutine ${r.int(1, 9999)} [running]:`,
  (r) => `#${r.hex(6)}`,
  (r) => `${r.pick(SERVICES)}.internal:${r.pick([5432, 6379, 8443, 9092])}`,
  (r) => `/shop.v1.${r.pick(['Order', 'Cart', 'Stock'])}Service/${r.pick(['Get', 'List', 'Place', 'Cancel'])}`,
  (r) => `sku,qty,price\nSKU-${r.int(10000, 99999)},${r.int(1, 20)},${(r.next() * 100).toFixed(2)}`,
  (r) => `${pad(r.int(1, 28))}/${pad(r.int(1, 12))}/${r.int(2019, 2027)}`,
  (r) => `${r.int(2019, 2027)}-${pad(r.int(1, 12))}-${pad(r.int(1, 28))}`,
  (r) => `${pad(r.int(0, 23))}:${pad(r.int(0, 59))}:${pad(r.int(0, 59))}`,
  (r) => Array.from({ length: 6 }, () => r.hex(2)).join(':'),
  (r) => `req_${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 24)}`,
  (r) => r.pick(['password reset requested', 'password=******', 'token expired', 'Bearer authentication failed', 'secret rotation scheduled', 'api key missing']),
  (r) => `k8s.pod.uid=${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}`,
  (r) => `${r.pick(WORDS)}.${r.pick(WORDS)}.${r.pick(['count', 'duration', 'bytes'])}`,
  (r) => `x-request-id: ${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}`,
  (r) => `lat=${(r.next() * 180 - 90).toFixed(6)} lon=${(r.next() * 360 - 180).toFixed(6)}`,
  (r) => `${r.int(1, 64)} vCPU, ${r.int(1, 512)} GiB`,
  (r) => `GTIN ${r.digits(13)}`,
  (r) => `tracking 1Z${r.chars('0123456789ABCDEFGHJKLMNPRSTUVWXYZ', 16)}`,
];

function cleanValues(n: number, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => r.pick(GENERATORS)(r));
}

test('10,000 realistic clean values produce zero redactions with every PII class enabled', () => {
  const values = cleanValues(10_000, 20240620);
  assert.ok(new Set(values).size > 7000, 'the fixture is varied');
  const tally = new RedactionTally();
  const changed: string[] = [];
  for (const v of values) {
    const out = allPiiRedactor.redactString(northwind, v, 'logs', 'log.body', tally);
    if (out !== v) changed.push(`${v}  =>  ${out}`);
  }
  assert.is(tally.total(), 0, `false positives:\n${changed.slice(0, 20).join('\n')}`);
  // And as span attributes under realistic keys, through the record walk.
  const sc = scope({ 'otel.scope.name': 'shop' });
  const spans = values.slice(0, 2000).map((v, i) => span(sc, { name: v, attributes: { [`app.value${i % 13}`]: v, 'tenant.id': 'northwind-traders' } }));
  const t2 = new RedactionTally();
  allPiiRedactor.redactSpans(northwind, [group(spans)], t2);
  assert.is(t2.total(), 0);
});

// ---------------------------------------------------------------------------------------------
// Hostile inputs. The bound is a blow-up guard, not a speed check (speed is measured by
// bench:redact): each input takes a few hundred milliseconds here, and backtracking that is
// quadratic or worse on inputs this long takes minutes to hours, so a bound of many times the
// normal time still catches it without failing a run on a busy CI host.

const BOUND_MS = 10_000;

test('a 10 MB value without hits is scanned without backtracking blow-up', () => {
  const line = 'GET /api/orders/12345 took 12ms status=200 user=u-1234 route=/api/cart/items ';
  const big = line.repeat(Math.ceil(10_000_000 / line.length));
  const { value, ms } = timed(() => redact(acme, big));
  assert.is(value.tally.total(), 0);
  assert.ok(ms < BOUND_MS, `${ms.toFixed(0)} ms`);
});

test('a 10 MB value with a hit in every kilobyte is scanned without blow-up and every hit is redacted', () => {
  const chunk = 'x'.repeat(900) + ' order for CUST-20517 paid with 4111 1111 1111 1111 by jane.doe@example.org ';
  const reps = Math.ceil(10_000_000 / chunk.length);
  const { value, ms } = timed(() => redact(acme, chunk.repeat(reps)));
  assert.is(value.tally.total(), reps * 3);
  assert.not.ok(value.out.includes('CUST-20517') || value.out.includes('4111') || value.out.includes('jane.doe'));
  assert.ok(ms < BOUND_MS, `${ms.toFixed(0)} ms`);
});

test('many overlapping identifiers of many tenants stay linear', () => {
  let yaml = '';
  for (let i = 0; i < 50; i++) yaml += tenantYaml(`nest-${pad(i)}`, [Array.from({ length: i + 2 }, () => 'ab').join('-'), `ab${'a'.repeat(i + 1)}`, `T${pad(i, 3)}`]);
  const reg = registryOf(yaml, 'nested.yaml');
  const r = new Redactor(reg, KEY);
  const victim = reg.tenant('nest-00')!;
  const text = 'ab-'.repeat(300_000) + 'ab ' + 'aaaa'.repeat(250_000);
  const { value, ms } = timed(() => redact(victim, text, r));
  // The whole run of ab-ab-... is other tenants' identifiers: one merged marker.
  assert.ok(value.out.startsWith('[REDACTED:tenant_identifier:'), value.out.slice(0, 60));
  assert.ok(ms < BOUND_MS, `${ms.toFixed(0)} ms`);
});

test('regex-DoS-shaped inputs finish (no catastrophic backtracking)', () => {
  const shapes: Record<string, string> = {
    'a@a. x100k': 'a@a.'.repeat(100_000),
    '-----BEGIN without END x100k': '-----BEGIN'.repeat(100_000),
    'BEGIN header without END x100k': '-----BEGIN RSA PRIVATE KEY-----'.repeat(100_000),
    'eyJ x1M': 'eyJ'.repeat(1_000_000),
    'eyJ. x100k': 'eyJaaaaaaaaaaaaa.'.repeat(100_000),
    'digits 3M': '4'.repeat(3_000_000),
    'grouped digits x500k': '4111 '.repeat(500_000),
    'colons x1M': 'ab:'.repeat(1_000_000),
    ':// x500k': '://a:'.repeat(500_000),
    'Bearer x500k': 'Bearer '.repeat(500_000),
    'password= x500k': 'password='.repeat(500_000),
    '+1 x1M': '+1 '.repeat(1_000_000),
    'word run 3M': 'a'.repeat(3_000_000),
    'local part run then @': 'a.'.repeat(1_000_000) + '@example.com',
    'IBAN-like x200k': 'DE89 '.repeat(200_000),
    'quotes and escapes x500k': '\\"password\\":\\"'.repeat(500_000),
    'json nesting': '['.repeat(100_000) + '"CUST-20517"' + ']'.repeat(100_000),
  };
  for (const [name, text] of Object.entries(shapes)) {
    const { ms } = timed(() => redact(northwind, text, allPiiRedactor));
    assert.ok(ms < BOUND_MS, `${name}: ${ms.toFixed(0)} ms`);
  }
});

test.run();

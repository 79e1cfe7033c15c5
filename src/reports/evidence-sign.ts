// Signed evidence: the report's RFC 8785 canonical form signed with Ed25519, and the check of
// a document against it that says exactly what fails.
//
// Document: { report, signature: { algorithm, key_id, public_key, value, sections_value } }.
// `value` signs canonicalize(report). Before signing, the report gets an `integrity` block with
// a SHA-256 digest of each other top-level section, and `sections_value` signs the canonical
// digest map alone. Acceptance rests on `value` (and `sections_value` must verify too); the
// second signature exists to diagnose: when `value` fails but the digest map is still the
// signed one, the sections whose digests no longer match are the ones that changed.
//
// The key is an Ed25519 private key in PKCS#8 PEM: a configured file, or one generated once
// into the data directory (mode 0600) and reused. Its id is derived from the public key, so a
// document's key_id can be checked against any public key offered for it.
import canonicalize from 'canonicalize';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsError } from '../errors.js';
import type { EvidenceReport } from './evidence.js';

/** The generated key's file name inside the data directory. */
export const EVIDENCE_KEY_FILE = 'evidence-key.pem';

export interface EvidenceIntegrity {
  canonicalization: 'RFC 8785';
  digest: 'SHA-256';
  /** `sha256:<hex>` of the canonical form of each other top-level section. */
  section_digests: Record<string, string>;
}

/** The report as signed: the built report plus its section digests. */
export type SealedReport = EvidenceReport & { integrity: EvidenceIntegrity };

export interface EvidenceSignature {
  algorithm: 'Ed25519';
  key_id: string;
  /** SPKI, PEM. */
  public_key: string;
  /** Base64 signature over the canonical report. */
  value: string;
  /** Base64 signature over the canonical `integrity.section_digests`. */
  sections_value: string;
}

/** The evidence document as served and kept. */
export interface SignedEvidence {
  report: SealedReport;
  signature: EvidenceSignature;
}

/** Signs evidence with one Ed25519 key. */
export class EvidenceSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;

  constructor(
    private readonly privateKey: KeyObject,
    /** Where the key came from, for logs and errors. */
    readonly source: string,
  ) {
    const pub = createPublicKey(privateKey);
    this.keyId = evidenceKeyId(pub);
    this.publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Base64 Ed25519 signature of `bytes`. */
  signBytes(bytes: Buffer): string {
    return sign(null, bytes, this.privateKey).toString('base64');
  }

  /** The signed document of a report. */
  sign(report: EvidenceReport): SignedEvidence {
    // What a reader parses is what gets signed: no undefined members, no -0, no prototypes,
    // and no lone surrogates (telemetry may carry them; RFC 8785 refuses them).
    const plain = JSON.parse(JSON.stringify(report), wellFormed) as EvidenceReport;
    const integrity: EvidenceIntegrity = { canonicalization: 'RFC 8785', digest: 'SHA-256', section_digests: sectionDigests(plain) };
    const sealed: SealedReport = { ...plain, integrity };
    return {
      report: sealed,
      signature: {
        algorithm: 'Ed25519',
        key_id: this.keyId,
        public_key: this.publicKeyPem,
        value: sign(null, canonicalBytes(sealed), this.privateKey).toString('base64'),
        sections_value: sign(null, canonicalBytes(integrity.section_digests), this.privateKey).toString('base64'),
      },
    };
  }
}

/** An Ed25519 signature over the RFC 8785 canonical form of a JSON document kept beside it (an export manifest). */
export interface DetachedSignature {
  algorithm: 'Ed25519';
  canonicalization: 'RFC 8785';
  key_id: string;
  /** SPKI, PEM. */
  public_key: string;
  /** Base64 signature over the canonical document. */
  value: string;
}

/** Sign a JSON document (plain data) with the evidence key. */
export function signDetached(signer: EvidenceSigner, doc: object): DetachedSignature {
  return { algorithm: 'Ed25519', canonicalization: 'RFC 8785', key_id: signer.keyId, public_key: signer.publicKeyPem, value: signer.signBytes(canonicalBytes(doc)) };
}

/**
 * Check a detached signature over `doc`: against `publicKey` when given (who signed), else
 * against the key it embeds (that it is intact). Returns why it fails, or undefined.
 */
export function detachedSignatureProblem(doc: unknown, sig: unknown, publicKey?: string): string | undefined {
  if (!isObject(sig) || sig.algorithm !== 'Ed25519' || typeof sig.key_id !== 'string' || typeof sig.public_key !== 'string' || typeof sig.value !== 'string') {
    return 'the signature is not an Ed25519 signature document (algorithm, key_id, public_key, value)';
  }
  const embedded = parsePublicKey(sig.public_key);
  if (!embedded) return 'the signature\'s public_key is not an Ed25519 public key';
  let key = embedded;
  if (publicKey !== undefined) {
    const supplied = parsePublicKey(publicKey);
    if (!supplied) return 'the supplied public key is not an Ed25519 public key (PEM or base64 SPKI)';
    if (evidenceKeyId(supplied) !== sig.key_id || !spki(embedded).equals(spki(supplied))) return `signed by key ${sig.key_id}, not by the supplied key ${evidenceKeyId(supplied)}`;
    key = supplied;
  } else if (evidenceKeyId(embedded) !== sig.key_id) return `the signature names key ${sig.key_id}, but embeds ${evidenceKeyId(embedded)}`;
  const value = strictBase64(sig.value);
  if (!value || value.length !== 64) return 'the signature value is not a 64-byte Ed25519 signature in base64';
  let bytes: Buffer;
  try {
    bytes = canonicalBytes(doc);
  } catch (e) {
    return `the document cannot be canonicalised (RFC 8785): ${(e as Error).message}`;
  }
  return verify(null, bytes, key, value) ? undefined : `the signature by ${sig.key_id} does not match the document (it was changed after signing, or signed by another key)`;
}

/** The signer from `keyFile`, or from the key kept in `dataDir` (generated on first use). */
export function loadEvidenceSigner(opts: { dataDir: string; keyFile?: string }): EvidenceSigner {
  if (opts.keyFile) return new EvidenceSigner(readPrivateKey(opts.keyFile, 'the --evidence-key file'), opts.keyFile);
  const file = join(opts.dataDir, EVIDENCE_KEY_FILE);
  let pem: string | undefined;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw tsError('TS_ERR_CONFIG', [`cannot read the evidence key ${file}: ${(e as Error).message}`]);
  }
  // An unreadable existing key is an error, never replaced: reports signed with it must stay verifiable.
  if (pem !== undefined) return new EvidenceSigner(privateKeyFrom(pem, file), file);
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(opts.dataDir, { recursive: true });
  try {
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadEvidenceSigner(opts);
    throw tsError('TS_ERR_CONFIG', [`cannot write the evidence key ${file}: ${(e as Error).message}`]);
  }
  chmodSync(file, 0o600);
  return new EvidenceSigner(privateKey, file);
}

/**
 * The public half of the evidence key, from `keyFile` or the key kept in `dataDir`, without
 * generating one: what checkpoints and other signed files are checked against. Undefined when
 * there is no key in the data dir (and none configured).
 */
export function evidencePublicKey(opts: { dataDir: string; keyFile?: string }): KeyObject | undefined {
  if (opts.keyFile) return createPublicKey(readPrivateKey(opts.keyFile, 'the --evidence-key file'));
  const file = join(opts.dataDir, EVIDENCE_KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw tsError('TS_ERR_CONFIG', [`cannot read the evidence key ${file}: ${(e as Error).message}`]);
  }
  return createPublicKey(privateKeyFrom(pem, file));
}

function readPrivateKey(file: string, what: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw tsError('TS_ERR_CONFIG', [`cannot read ${what} ${file}: ${(e as Error).message}`]);
  }
  return privateKeyFrom(pem, file);
}

function privateKeyFrom(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw tsError('TS_ERR_CONFIG', [`${file} is not a private key in PEM: ${(e as Error).message}`]);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw tsError('TS_ERR_CONFIG', [`${file} holds a ${key.asymmetricKeyType} key; evidence is signed with Ed25519 (openssl genpkey -algorithm ed25519)`]);
  return key;
}

/** The id of an Ed25519 public key: `ed25519-` and the first 32 hex digits of SHA-256 over its SPKI DER. */
export function evidenceKeyId(publicKey: KeyObject): string {
  return `ed25519-${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32)}`;
}

/** A public key from PEM, or from base64 SPKI DER; undefined when it is neither or not Ed25519. */
export function parsePublicKey(text: string): KeyObject | undefined {
  try {
    const trimmed = text.trim();
    const key = trimmed.startsWith('-----BEGIN') ? createPublicKey(trimmed) : createPublicKey({ key: strictBase64(trimmed) ?? Buffer.alloc(0), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The file form of a document: two-space JSON and a newline, the bytes `verify` expects. */
export function evidenceJson(doc: SignedEvidence): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export type EvidenceFailure = 'not_json' | 'bad_shape' | 'not_as_written' | 'key_mismatch' | 'signature_mismatch' | 'page_mismatch';

/** What `verifyEvidence` found. */
export type EvidenceVerification =
  | {
      valid: true;
      key_id: string;
      /** supplied: checked against a key the caller trusts; embedded: only the document's own key. */
      key_source: 'supplied' | 'embedded';
      tenant: string;
      period: { from: string; to: string };
      generated_at: string;
      notes: string[];
    }
  | {
      valid: false;
      reason: EvidenceFailure;
      message: string;
      /** The field that is missing or malformed (bad_shape). */
      field?: string;
      /** Top-level report sections that differ from what was signed (signature_mismatch, when known). */
      sections?: string[];
    };

type Failure = Extract<EvidenceVerification, { valid: false }>;

const fail = (reason: EvidenceFailure, message: string, extra: Partial<Failure> = {}): Failure => ({ valid: false, reason, message, ...extra });
const badShape = (field: string, what: string): Failure => fail('bad_shape', `${field}: ${what}`, { field });

/**
 * Verify an evidence document: parsed, or as the JSON text of a file (then also byte for byte
 * as written). With `publicKey` (PEM or base64 SPKI) the document must be signed by that key;
 * without, only by the key it embeds, which proves integrity but not who signed.
 */
export function verifyEvidence(input: unknown, publicKey?: string | KeyObject): EvidenceVerification {
  let doc = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      return fail('not_json', `not JSON: ${(e as Error).message}`);
    }
  }
  const shape = checkShape(doc);
  if ('valid' in shape) return shape;
  const { report, signature } = shape;
  if (typeof input === 'string' && input !== evidenceJson(doc as SignedEvidence)) {
    return fail('not_as_written', 'the JSON is not byte for byte as tenantscope wrote it (spacing, key order, escapes or a duplicate key changed); keep evidence files exactly as downloaded');
  }

  const embedded = parsePublicKey(signature.public_key);
  if (!embedded) return badShape('signature.public_key', 'not an Ed25519 public key in PEM or base64 SPKI');
  let key = embedded;
  if (publicKey !== undefined) {
    const supplied = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey.asymmetricKeyType === 'ed25519' ? publicKey : undefined;
    if (!supplied) return fail('key_mismatch', 'the supplied public key is not an Ed25519 public key (PEM or base64 SPKI)');
    const suppliedId = evidenceKeyId(supplied);
    if (suppliedId !== signature.key_id) return fail('key_mismatch', `the document names key ${signature.key_id}, but the supplied public key is ${suppliedId}`);
    if (!spki(embedded).equals(spki(supplied))) return fail('key_mismatch', `signature.public_key is not the supplied key ${suppliedId}`);
    key = supplied;
  } else if (evidenceKeyId(embedded) !== signature.key_id) {
    return fail('key_mismatch', `the document names key ${signature.key_id}, but its embedded public key is ${evidenceKeyId(embedded)}`);
  }

  const value = Buffer.from(signature.value, 'base64');
  const sectionsValue = Buffer.from(signature.sections_value, 'base64');
  let canonical: Buffer;
  try {
    canonical = canonicalBytes(report);
  } catch (e) {
    return badShape('report', `cannot be canonicalised (RFC 8785): ${(e as Error).message}`);
  }
  const digestsSigned = verify(null, canonicalBytes(report.integrity.section_digests), key, sectionsValue);
  if (!verify(null, canonical, key, value)) return diagnose(report, digestsSigned);
  if (!digestsSigned) return fail('signature_mismatch', 'the report matches its signature, but signature.sections_value does not match its section digests');

  const notes = publicKey === undefined ? [`checked against the public key embedded in the document (${signature.key_id}); give the signer's public key to check who signed it`] : [];
  return { valid: true, key_id: signature.key_id, key_source: publicKey === undefined ? 'embedded' : 'supplied', tenant: report.tenant.id, period: { from: report.period.from, to: report.period.to }, generated_at: report.generated_at, notes };
}

/** Why the report signature failed, as precisely as the signed section digests allow. */
function diagnose(report: SealedReport, digestsSigned: boolean): Failure {
  if (!digestsSigned) {
    return fail('signature_mismatch', 'the signature does not cover the report as given, and its section digests are not the signed ones either, so the changed section cannot be named');
  }
  const signed = report.integrity.section_digests;
  const now = sectionDigests(report);
  const changed = [...new Set([...Object.keys(signed), ...Object.keys(now)])].filter((k) => signed[k] !== now[k]).sort();
  if (changed.length === 0) {
    return fail('signature_mismatch', 'every section matches its signed digest, so the signature value or the integrity block was altered', { sections: ['integrity'] });
  }
  return fail('signature_mismatch', `report section${changed.length > 1 ? 's' : ''} ${changed.join(', ')} differ${changed.length > 1 ? '' : 's'} from what was signed`, { sections: changed });
}

/** The document's two parts when it has the expected shape, else the first field that does not. */
function checkShape(doc: unknown): { report: SealedReport; signature: EvidenceSignature } | Failure {
  if (!isObject(doc)) return badShape('(document)', 'expected a JSON object with report and signature');
  for (const k of Object.keys(doc)) if (k !== 'report' && k !== 'signature') return badShape(k, 'unexpected member; a document has only report and signature');
  const { report, signature } = doc;
  if (!isObject(report)) return badShape('report', 'expected an object');
  if (!isObject(signature)) return badShape('signature', 'expected an object');
  const fields = ['algorithm', 'key_id', 'public_key', 'value', 'sections_value'];
  for (const k of Object.keys(signature)) if (!fields.includes(k)) return badShape(`signature.${k}`, 'unexpected member');
  if (signature.algorithm !== 'Ed25519') return badShape('signature.algorithm', `expected "Ed25519", got ${JSON.stringify(signature.algorithm)?.slice(0, 40)}`);
  for (const k of ['key_id', 'public_key']) if (typeof signature[k] !== 'string' || signature[k] === '') return badShape(`signature.${k}`, 'expected a non-empty string');
  for (const k of ['value', 'sections_value']) {
    const bytes = typeof signature[k] === 'string' ? strictBase64(signature[k]) : undefined;
    if (!bytes || bytes.length !== 64) return badShape(`signature.${k}`, 'expected a 64-byte Ed25519 signature in base64');
  }
  const integrity = report.integrity;
  if (!isObject(integrity)) return badShape('report.integrity', 'expected an object');
  const digests = integrity.section_digests;
  if (!isObject(digests)) return badShape('report.integrity.section_digests', 'expected an object');
  for (const [k, v] of Object.entries(digests)) if (typeof v !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v)) return badShape(`report.integrity.section_digests.${k}`, 'expected sha256:<64 hex digits>');
  if (!isObject(report.tenant) || typeof report.tenant.id !== 'string') return badShape('report.tenant.id', 'expected a string');
  if (!isObject(report.period) || typeof report.period.from !== 'string' || typeof report.period.to !== 'string') return badShape('report.period', 'expected from and to');
  if (typeof report.generated_at !== 'string') return badShape('report.generated_at', 'expected a string');
  return { report: report as unknown as SealedReport, signature: signature as unknown as EvidenceSignature };
}

function sectionDigests(report: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(report)) if (k !== 'integrity') out[k] = `sha256:${createHash('sha256').update(canonicalBytes(v)).digest('hex')}`;
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** JSON.parse reviver: lone surrogates in strings and member names become U+FFFD. */
function wellFormed(_key: string, value: unknown): unknown {
  const fix = (s: string) => s.replace(LONE_SURROGATE, '\ufffd');
  if (typeof value === 'string') return fix(value);
  if (isObject(value) && Object.keys(value).some((k) => fix(k) !== k)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [fix(k), v]));
  return value;
}

/** The UTF-8 bytes of a value's RFC 8785 (JCS) canonical form: what every signature here covers. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value) ?? '', 'utf8');
}

/** Base64 that decodes and re-encodes to itself (no stray characters, padding as written). */
export function strictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });

/** A JSON object (not null, not an array). */
export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

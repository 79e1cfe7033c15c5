// Loads the tenant registry (tenants.yaml) into a frozen, tier-resolved Registry.
//
// Validation runs in three passes — YAML syntax, the JSON Schema, then the cross-field rules
// a schema cannot state — and collects every problem before throwing, so an operator fixes
// the whole file in one edit instead of one error per restart. Each problem is located by
// walking the YAML document's node tree along the failing path, which gives line:column even
// for values reached through anchors or written in flow style.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { tsError, type TenantscopeError } from '../errors.js';
import schema from './registry.schema.json' with { type: 'json' };
import {
  DATA_CLASSES,
  TIER_NAMES,
  type Control,
  type DataClass,
  type InputLimits,
  type PiiClass,
  type PriceCard,
  type Principal,
  type RecoveryComponent,
  type RecoveryObjectives,
  type Registry,
  type RegistryProblem,
  type RetentionDays,
  type Settings,
  type SlaTerms,
  type SloObjective,
  type TenantRecord,
  type Tier,
  type TierName,
  type TokenKind,
  type TokenRecord,
} from './types.js';

/** Default service settings, used for any key the registry leaves out. */
export const DEFAULT_PRICE_CARD: PriceCard = Object.freeze({ currency: 'USD', cpuSecond: 0.00004, gbMonthStored: 0.03, gbIngested: 0.25, perMillionRequests: 0.6, platformPerDay: 0, monthlyFee: Object.freeze({ shared: 0, segmented: 0, dedicated: 0 }) });
const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/**
 * Limits on request content. The string limit (64 Ki characters) and attribute count (128,
 * OpenTelemetry SDKs' own default) are explained in src/ingest/otlp/limits.ts. The decompressed
 * size defaults to the body limit: decoding costs memory in proportion to the inflated bytes,
 * so this keeps the worst case of one request what it was before the two limits were separate.
 */
export const DEFAULT_LIMITS: InputLimits = Object.freeze({
  maxDecompressedBytes: DEFAULT_MAX_REQUEST_BYTES,
  maxDepth: 64,
  maxAttributes: 128,
  maxStringLength: 65_536,
});
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
  limits: DEFAULT_LIMITS,
  multiTenantServices: Object.freeze([]),
  priceCard: DEFAULT_PRICE_CARD,
});

// Hashing is cheap but not free; a token longer than any we issue cannot match, and refusing
// it early keeps a hostile header from costing a hash of megabytes.
const MAX_TOKEN_LENGTH = 4096;

// ---------------------------------------------------------------------------------------------
// The file as written (snake_case). Only trusted after the schema and cross-field passes.

type RawRetention = Partial<Record<DataClass, number>>;

interface RawSlo {
  availability?: number;
  latency_threshold_ms?: number;
  latency_target?: number;
  window_days?: number;
  min_events?: number;
}

interface RawSla {
  availability?: number;
  credits?: { below: number; percent: number }[];
}

interface RawQuotas {
  events_per_second?: number;
  bytes_per_second?: number;
}

interface RawRecovery {
  rpo_minutes?: number;
  rto_minutes?: number;
  restore_test_days?: number;
  backup_retention_days?: number;
  components?: RecoveryComponent[];
  dr_region_required?: boolean;
}

interface RawTier {
  slo: Required<RawSlo>;
  recovery: Required<RawRecovery>;
  sla: Required<RawSla>;
  retention_min_days: Record<DataClass, number>;
  retention_max_days: Record<DataClass, number>;
  controls: Control[];
  quotas: Required<RawQuotas>;
}

interface RawTenant {
  id: string;
  name: string;
  tier: TierName;
  region: string;
  allowed_regions: string[];
  identifiers: string[];
  retention?: RawRetention;
  slo?: RawSlo;
  recovery?: RawRecovery;
  sla?: RawSla;
  monthly_fee?: number;
  quotas?: RawQuotas;
  controls?: Control[];
  encryption_key_id?: string;
  legal_hold?: boolean;
  pii_classes?: PiiClass[];
  support_tickets?: { ticket: string; from: string; until: string }[];
}

interface RawToken {
  name: string;
  kind: TokenKind;
  sha256: string;
  tenants?: string[];
}

interface RawRegistry {
  version: 1;
  tiers: Record<TierName, RawTier>;
  tenants: RawTenant[];
  tokens: RawToken[];
  settings?: {
    max_request_bytes?: number;
    limits?: {
      max_request_bytes?: number;
      max_decompressed_bytes?: number;
      max_depth?: number;
      max_attributes?: number;
      max_string_length?: number;
    };
    multi_tenant_services?: string[];
    price_card?: { currency?: string; cpu_second?: number; gb_month_stored?: number; gb_ingested?: number; per_million_requests?: number; platform_per_day?: number; monthly_fee?: Partial<Record<TierName, number>> };
  };
}

// ---------------------------------------------------------------------------------------------
// Public entry points

/** Read, validate and resolve a registry file; throws TS_ERR_CONFIG listing every problem. */
export function loadRegistry(path: string | URL): Registry {
  const file = typeof path === 'string' ? path : fileURLToPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw configError(file, [{ file, path: '', line: 0, column: 0, message: `cannot read the registry file (${reason})` }]);
  }
  return parseRegistry(text, file);
}

/** Validate and resolve registry YAML; `fileName` is only used to name the file in problems. */
export function parseRegistry(text: string, fileName: string): Registry {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const sink = new ProblemSink(fileName, doc, lineCounter);

  // The node tree of a document with syntax errors is a best guess; validating it would
  // report phantom schema errors, so syntax problems are reported alone.
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const opened = e.code === 'MISSING_CHAR' ? unclosedQuoteStart(doc, e.pos[0]) : undefined;
      if (opened === undefined) sink.at(e.pos[0], `YAML syntax error: ${e.message}`);
      else {
        const runsTo = lineCounter.linePos(e.pos[0]).line;
        sink.at(opened, `YAML syntax error: ${e.message} (the string opened here runs on to line ${runsTo})`);
      }
    }
    throw configError(fileName, sink.problems);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    sink.add([], `YAML cannot be expanded: ${(e as Error).message}`);
    throw configError(fileName, sink.problems);
  }

  const validate = compiledSchema();
  if (!validate(data)) {
    for (const e of validate.errors ?? []) {
      const p = explainSchemaError(e, data);
      sink.add(p.segs, p.message, p.atKey);
    }
  }
  // Cross-field rules run even when the schema failed (they skip what they cannot read), so
  // the first report already lists every mistake.
  crossCheck(data, sink);

  if (sink.problems.length > 0) throw configError(fileName, sink.problems);
  return new TenantRegistry(fileName, data as RawRegistry);
}

/** One problem as `file:line:column: path: message`, the way compilers print them. */
export function formatProblem(p: RegistryProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Render a path of keys and indexes as `tenants[2].retention.spans`. */
export function formatPath(segs: readonly (string | number)[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function configError(file: string, problems: RegistryProblem[]): TenantscopeError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  const head = `${sorted.length} problem${sorted.length === 1 ? '' : 's'} in ${file}`;
  return tsError('TS_ERR_CONFIG', [[head, ...sorted.map(formatProblem)].join('\n')], { file, problems: sorted });
}

// ---------------------------------------------------------------------------------------------
// Locating problems in the YAML

type Seg = string | number;

class ProblemSink {
  readonly problems: RegistryProblem[] = [];
  readonly #seen = new Set<string>();

  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  /** Record a problem at the node for `segs` (or its key when `atKey`). */
  add(segs: readonly Seg[], message: string, atKey = false): void {
    this.#push(formatPath(segs), this.#locate(segs, atKey), message);
  }

  /** Record a problem at a raw source offset (YAML syntax errors). */
  at(offset: number, message: string): void {
    this.#push('', offset, message);
  }

  /** `line N` of the node for `segs`, for messages that point at an earlier definition. */
  lineOf(segs: readonly Seg[]): number {
    return this.lines.linePos(this.#locate(segs, false)).line;
  }

  #push(path: string, offset: number, message: string): void {
    // allErrors can make ajv say the same thing twice through different $refs.
    const key = `${path}\0${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const { line, col } = this.lines.linePos(offset);
    this.problems.push({ file: this.file, path, line, column: col, message });
  }

  // Walks as far down the path as the document goes; a missing tail (e.g. a required key
  // that is absent) lands on the deepest node that exists, which is where the fix goes.
  #locate(segs: readonly Seg[], atKey: boolean): number {
    let node: unknown = this.doc.contents;
    let offset = startOf(node) ?? 0;
    for (let i = 0; i < segs.length; i++) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const seg = segs[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        const keyAt = startOf(pair.key);
        if (atKey && i === segs.length - 1) {
          offset = keyAt ?? offset;
          break;
        }
        const value = pair.value;
        // An empty value has a zero-width range at the end of the line; the key reads better.
        if (value == null || (isScalar(value) && value.value === null)) {
          offset = keyAt ?? offset;
          break;
        }
        node = value;
        offset = startOf(value) ?? keyAt ?? offset;
      } else if (isSeq(node)) {
        const item = typeof seg === 'number' ? node.items[seg] : undefined;
        if (item == null) break;
        node = item;
        offset = startOf(item) ?? offset;
      } else {
        break;
      }
    }
    return offset;
  }
}

// yaml reports an unclosed quote where the input ends, often many lines below the mistake;
// the quoted scalar that ends there starts at the quote the user forgot to close.
function unclosedQuoteStart(doc: Document, errorOffset: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && node.range && node.range[1] === errorOffset) {
        start = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return start;
}

function startOf(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range ? range[0] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Schema pass

let validator: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  // verbose puts the offending value and its schema on each error, which the messages quote.
  // strictRequired is off because the *Full defs add `required` to a $ref'd *Partial def,
  // whose properties ajv's strict check cannot see through the reference.
  validator ??= new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false }).compile(schema);
  return validator;
}

function pointerToSegs(pointer: string, data: unknown): Seg[] {
  if (pointer === '') return [];
  const segs: Seg[] = [];
  let cur: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const index = Number(key);
      segs.push(index);
      cur = cur[index];
    } else {
      segs.push(key);
      cur = isRecord(cur) ? cur[key] : undefined;
    }
  }
  return segs;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v)}`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

function schemaDescription(s: unknown): string | undefined {
  return isRecord(s) && typeof s.description === 'string' ? s.description : undefined;
}

function explainSchemaError(e: ErrorObject, data: unknown): { segs: Seg[]; message: string; atKey: boolean } {
  const segs = pointerToSegs(e.instancePath, data);
  const base = e.message ?? e.keyword;
  const got = describe(e.data);
  const parent: Record<string, unknown> = isRecord(e.parentSchema) ? e.parentSchema : {};
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys(isRecord(parent.properties) ? parent.properties : {});
      const hint = closest(key, allowed);
      const suggestion = hint ? ` (did you mean "${hint}"?)` : '';
      return {
        segs: [...segs, key],
        atKey: true,
        message: `${base}: unknown key "${key}"${suggestion}; allowed keys: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const missing = String(e.params.missingProperty);
      const props = isRecord(parent.properties) ? parent.properties : {};
      const what = schemaDescription(props[missing]);
      return { segs, atKey: false, message: `${base}${what ? ` (${what})` : ''}` };
    }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      const hint = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      const suggestion = hint ? ` (did you mean "${hint}"?)` : '';
      return { segs, atKey: false, message: `${base}: ${allowed.join(', ')}; got ${got}${suggestion}` };
    }
    case 'const':
      return { segs, atKey: false, message: `${base} ${JSON.stringify(e.params.allowedValue)}; got ${got}` };
    case 'pattern': {
      const what = schemaDescription(parent);
      return { segs, atKey: false, message: `${base}${what ? ` (${what})` : ''}; got ${got}` };
    }
    case 'uniqueItems': {
      const later = Math.max(Number(e.params.i), Number(e.params.j));
      const item = Array.isArray(e.data) ? e.data[later] : undefined;
      return { segs: [...segs, later], atKey: false, message: `${base}; ${describe(item)} is listed twice` };
    }
    default:
      return { segs, atKey: false, message: `${base}; got ${got}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-field pass: rules between values. Written against `unknown` because it also runs on a
// file the schema rejected; anything of the wrong shape is skipped (the schema reported it).
//
// Deliberately NOT checked here: tenant retention against its tier's min/max and tier
// controls against tenant settings. Those are compliance findings the scheduled policies
// report as violations (with evidence); refusing to start would hide them instead.

function crossCheck(data: unknown, sink: ProblemSink): void {
  if (!isRecord(data)) return;
  checkTiers(data.tiers, sink);
  const tenantIndex = checkTenants(asList(data.tenants), sink);
  checkTokens(asList(data.tokens), tenantIndex, sink);
  checkLimits(data.settings, sink);
}

// The body limit may be written at settings.max_request_bytes (where it always was) or next to
// the other limits, but not both: two values for one limit would leave the reader guessing.
function checkLimits(settings: unknown, sink: ProblemSink): void {
  if (!isRecord(settings)) return;
  const limits = isRecord(settings.limits) ? settings.limits : {};
  const top = settings.max_request_bytes;
  const inner = limits.max_request_bytes;
  if (top !== undefined && inner !== undefined) {
    sink.add(['settings', 'limits', 'max_request_bytes'], 'set max_request_bytes in one place only: settings.max_request_bytes or settings.limits.max_request_bytes', true);
  }
  const body = typeof inner === 'number' ? inner : typeof top === 'number' ? top : DEFAULT_MAX_REQUEST_BYTES;
  const inflated = limits.max_decompressed_bytes;
  if (typeof inflated === 'number' && inflated < body) {
    sink.add(['settings', 'limits', 'max_decompressed_bytes'], `${inflated} is below the request body limit ${body}; an uncompressed body of that size would be refused`);
  }
}

function checkTiers(tiers: unknown, sink: ProblemSink): void {
  if (!isRecord(tiers)) return;
  for (const name of TIER_NAMES) {
    const tier = tiers[name];
    if (!isRecord(tier) || !isRecord(tier.retention_min_days) || !isRecord(tier.retention_max_days)) continue;
    for (const dc of DATA_CLASSES) {
      const min = tier.retention_min_days[dc];
      const max = tier.retention_max_days[dc];
      if (typeof min === 'number' && typeof max === 'number' && max < min) {
        sink.add(
          ['tiers', name, 'retention_max_days', dc],
          `maximum retention ${max} days is below the tier minimum retention_min_days.${dc} = ${min}`,
        );
      }
    }
  }
}

/** Returns tenant id → index of its first definition. */
function checkTenants(tenants: unknown[], sink: ProblemSink): Map<string, number> {
  const firstById = new Map<string, number>();
  tenants.forEach((t, i) => {
    if (!isRecord(t) || typeof t.id !== 'string') return;
    const prev = firstById.get(t.id);
    if (prev === undefined) firstById.set(t.id, i);
    else {
      const at = sink.lineOf(['tenants', prev, 'id']);
      sink.add(['tenants', i, 'id'], `duplicate tenant id "${t.id}"; already defined at tenants[${prev}] (line ${at})`);
    }
  });

  tenants.forEach((t, i) => {
    if (!isRecord(t)) return;
    asList(t.support_tickets).forEach((x, j) => {
      if (!isRecord(x) || typeof x.from !== 'string' || typeof x.until !== 'string') return;
      const from = Date.parse(x.from);
      const until = Date.parse(x.until);
      if (Number.isNaN(from) || Number.isNaN(until)) sink.add(['tenants', i, 'support_tickets', j], 'from and until must be valid RFC 3339 times');
      else if (until <= from) sink.add(['tenants', i, 'support_tickets', j, 'until'], `the window must end after it starts (from ${x.from})`);
    });
  });

  tenants.forEach((t, i) => {
    if (!isRecord(t) || typeof t.region !== 'string' || !Array.isArray(t.allowed_regions)) return;
    const allowed = t.allowed_regions.filter((r): r is string => typeof r === 'string');
    if (!allowed.includes(t.region)) {
      sink.add(['tenants', i, 'region'], `region "${t.region}" is not one of allowed_regions: ${allowed.join(', ')}`);
    }
  });

  // Identifiers decide which strings are redacted from whose data, so one string naming two
  // tenants would make redaction ambiguous. Case-insensitive: payloads are not consistent.
  interface Owner {
    index: number;
    label: string;
    segs: Seg[];
  }
  const owners = new Map<string, Owner>();
  const labelOf = (t: unknown, i: number) => (isRecord(t) && typeof t.id === 'string' ? `"${t.id}"` : `tenants[${i}]`);
  for (const [id, i] of firstById) owners.set(id.toLowerCase(), { index: i, label: `"${id}"`, segs: ['tenants', i, 'id'] });
  tenants.forEach((t, i) => {
    if (!isRecord(t) || !Array.isArray(t.identifiers)) return;
    t.identifiers.forEach((ident, k) => {
      if (typeof ident !== 'string') return;
      const key = ident.toLowerCase();
      const owner = owners.get(key);
      const segs: Seg[] = ['tenants', i, 'identifiers', k];
      if (owner === undefined) owners.set(key, { index: i, label: labelOf(t, i), segs });
      else if (owner.index !== i) {
        const where = `${formatPath(owner.segs)}, line ${sink.lineOf(owner.segs)}`;
        sink.add(
          segs,
          `identifier "${ident}" already names tenant ${owner.label} (${where}); an identifier belongs to one tenant only, compared case-insensitively`,
        );
      }
    });
  });
  return firstById;
}

function checkTokens(tokens: unknown[], tenantIndex: Map<string, number>, sink: ProblemSink): void {
  const byHash = new Map<string, number>();
  const byName = new Map<string, number>();
  tokens.forEach((tok, i) => {
    if (!isRecord(tok)) return;
    if (typeof tok.sha256 === 'string') {
      const prev = byHash.get(tok.sha256);
      if (prev === undefined) byHash.set(tok.sha256, i);
      else {
        sink.add(
          ['tokens', i, 'sha256'],
          `same hash as tokens[${prev}] (line ${sink.lineOf(['tokens', prev])}); every token must have its own plaintext`,
        );
      }
    }
    // Audit events and access reviews name the token, so two tokens with one name would be
    // indistinguishable in evidence.
    if (typeof tok.name === 'string') {
      const prev = byName.get(tok.name);
      if (prev === undefined) byName.set(tok.name, i);
      else sink.add(['tokens', i, 'name'], `duplicate token name "${tok.name}"; already used by tokens[${prev}] (line ${sink.lineOf(['tokens', prev])})`);
    }

    const kind = tok.kind;
    const list = tok.tenants;
    if (kind === 'admin') {
      if (list !== undefined) sink.add(['tokens', i, 'tenants'], 'an admin token reaches every tenant and takes no tenants list; remove it', true);
      return;
    }
    if (kind !== 'ingest' && kind !== 'read' && kind !== 'auditor') return;
    if (list === undefined) {
      const need = kind === 'read' ? 'exactly one tenant id' : 'one or more tenant ids';
      sink.add(['tokens', i], `a ${kind} token needs a tenants list with ${need}`);
      return;
    }
    if (!Array.isArray(list)) return;
    if (kind === 'read' && list.length > 1) {
      sink.add(['tokens', i, 'tenants'], `a read token names exactly one tenant; got ${list.length} (use an auditor token for several)`);
    }
    list.forEach((id, k) => {
      if (typeof id !== 'string' || tenantIndex.has(id)) return;
      const hint = closest(id, [...tenantIndex.keys()]);
      sink.add(['tokens', i, 'tenants', k], `unknown tenant "${id}"${hint ? ` (did you mean "${hint}"?)` : '; no tenant in this file has that id'}`);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The resolved registry

class TenantRegistry implements Registry {
  readonly version = 1 as const;
  readonly tiers: Readonly<Record<TierName, Tier>>;
  readonly settings: Settings;
  readonly #tenants = new Map<string, TenantRecord>();
  readonly #tenantList: readonly TenantRecord[];
  readonly #tokens: readonly TokenRecord[];
  readonly #principals = new Map<string, Principal>();
  readonly #owners = new Map<string, string>();

  constructor(
    readonly file: string,
    raw: RawRegistry,
  ) {
    const tiers = {} as Record<TierName, Tier>;
    for (const name of TIER_NAMES) tiers[name] = resolveTier(name, raw.tiers[name]);
    this.tiers = deepFreeze(tiers);
    const rawLimits = raw.settings?.limits;
    const maxRequestBytes = rawLimits?.max_request_bytes ?? raw.settings?.max_request_bytes ?? DEFAULT_SETTINGS.maxRequestBytes;
    this.settings = deepFreeze({
      maxRequestBytes,
      limits: {
        maxDecompressedBytes: rawLimits?.max_decompressed_bytes ?? maxRequestBytes,
        maxDepth: rawLimits?.max_depth ?? DEFAULT_LIMITS.maxDepth,
        maxAttributes: rawLimits?.max_attributes ?? DEFAULT_LIMITS.maxAttributes,
        maxStringLength: rawLimits?.max_string_length ?? DEFAULT_LIMITS.maxStringLength,
      },
      multiTenantServices: [...(raw.settings?.multi_tenant_services ?? DEFAULT_SETTINGS.multiTenantServices)],
      priceCard: priceCard(raw.settings?.price_card),
    });

    this.#tenantList = deepFreeze(raw.tenants.map((t) => resolveTenant(t, tiers[t.tier], this.settings.priceCard.monthlyFee[t.tier])));
    for (const t of this.#tenantList) {
      this.#tenants.set(t.id, t);
      for (const ident of t.identifiers) this.#owners.set(ident.toLowerCase(), t.id);
    }

    this.#tokens = deepFreeze(
      raw.tokens.map((t): TokenRecord => ({ name: t.name, kind: t.kind, sha256: t.sha256, tenants: [...(t.tenants ?? [])] })),
    );
    // Lookup by digest: timing can at most reveal digest prefixes of the caller's own guess,
    // which gives no way toward a valid token, so a Map is as safe as a constant-time compare.
    for (const t of this.#tokens) {
      const tenants: ReadonlySet<string> | 'all' = t.kind === 'admin' ? 'all' : new Set(t.tenants);
      this.#principals.set(t.sha256, Object.freeze({ kind: t.kind, name: t.name, tenants }));
    }
  }

  tenant(id: string): TenantRecord | undefined {
    return this.#tenants.get(id);
  }

  tenants(): readonly TenantRecord[] {
    return this.#tenantList;
  }

  tokens(): readonly TokenRecord[] {
    return this.#tokens;
  }

  authenticate(plaintextToken: string): Principal | undefined {
    if (typeof plaintextToken !== 'string' || plaintextToken.length === 0 || plaintextToken.length > MAX_TOKEN_LENGTH) {
      return undefined;
    }
    return this.#principals.get(createHash('sha256').update(plaintextToken, 'utf8').digest('hex'));
  }

  // read and auditor tokens both read (evidence is built from the reports); finer distinctions
  // such as "only auditors fetch signed evidence" belong to the route, which sees `kind`.
  canRead(principal: Principal, tenantId: string): boolean {
    if (!this.#tenants.has(tenantId)) return false;
    switch (principal.kind) {
      case 'admin':
        return true;
      case 'read':
      case 'auditor':
        return principal.tenants !== 'all' && principal.tenants.has(tenantId);
      case 'ingest':
        return false;
    }
  }

  // Admin tokens do not ingest: a write credential lives in collector configs all over the
  // fleet, and one that reaches every tenant would leave claimed tenant ids unchecked.
  canIngest(principal: Principal, tenantId: string): boolean {
    return (
      this.#tenants.has(tenantId) &&
      principal.kind === 'ingest' &&
      principal.tenants !== 'all' &&
      principal.tenants.has(tenantId)
    );
  }

  identifiersOf(tenantId: string): readonly string[] {
    return this.#tenants.get(tenantId)?.identifiers ?? [];
  }

  ownerOfIdentifier(value: string): string | undefined {
    return this.#owners.get(value.toLowerCase());
  }
}

function priceCard(raw: NonNullable<RawRegistry['settings']>['price_card']): PriceCard {
  const d = DEFAULT_PRICE_CARD;
  return {
    currency: raw?.currency ?? d.currency,
    cpuSecond: raw?.cpu_second ?? d.cpuSecond,
    gbMonthStored: raw?.gb_month_stored ?? d.gbMonthStored,
    gbIngested: raw?.gb_ingested ?? d.gbIngested,
    perMillionRequests: raw?.per_million_requests ?? d.perMillionRequests,
    platformPerDay: raw?.platform_per_day ?? d.platformPerDay,
    monthlyFee: {
      shared: raw?.monthly_fee?.shared ?? d.monthlyFee.shared,
      segmented: raw?.monthly_fee?.segmented ?? d.monthlyFee.segmented,
      dedicated: raw?.monthly_fee?.dedicated ?? d.monthlyFee.dedicated,
    },
  };
}

function resolveTier(name: TierName, t: RawTier): Tier {
  return {
    name,
    slo: resolveSlo(t.slo),
    retentionMinDays: retentionRecord(t.retention_min_days),
    retentionMaxDays: retentionRecord(t.retention_max_days),
    controls: [...t.controls],
    quotas: { eventsPerSecond: t.quotas.events_per_second, bytesPerSecond: t.quotas.bytes_per_second },
    recovery: resolveRecovery(t.recovery, undefined),
    sla: resolveSla(t.sla, undefined),
  };
}

/** SLA terms: each field the contract (`over`) sets, else the tier's; a credit list replaces the tier's whole. */
function resolveSla(tier: Required<RawSla> | SlaTerms, over: RawSla | undefined): SlaTerms {
  const credits = over?.credits ?? tier.credits;
  return {
    availability: over?.availability ?? tier.availability,
    credits: credits.map((c) => ({ below: c.below, percent: c.percent })).sort((a, b) => b.below - a.below),
  };
}

/** Recovery objectives: each field the contract (`over`) sets, else the tier's. */
function resolveRecovery(tier: Required<RawRecovery> | RecoveryObjectives, over: RawRecovery | undefined): RecoveryObjectives {
  const base: RecoveryObjectives =
    'rpoMinutes' in tier
      ? tier
      : {
          rpoMinutes: tier.rpo_minutes,
          rtoMinutes: tier.rto_minutes,
          restoreTestDays: tier.restore_test_days,
          backupRetentionDays: tier.backup_retention_days,
          components: [...tier.components],
          drRegionRequired: tier.dr_region_required,
        };
  return {
    rpoMinutes: over?.rpo_minutes ?? base.rpoMinutes,
    rtoMinutes: over?.rto_minutes ?? base.rtoMinutes,
    restoreTestDays: over?.restore_test_days ?? base.restoreTestDays,
    backupRetentionDays: over?.backup_retention_days ?? base.backupRetentionDays,
    components: [...(over?.components ?? base.components)],
    drRegionRequired: over?.dr_region_required ?? base.drRegionRequired,
  };
}

function resolveSlo(s: Required<RawSlo>): SloObjective {
  return {
    availability: s.availability,
    latencyThresholdMs: s.latency_threshold_ms,
    latencyTarget: s.latency_target,
    windowDays: s.window_days,
    minEvents: s.min_events,
  };
}

function retentionRecord(r: RawRetention, fallback?: RetentionDays): RetentionDays {
  const out = {} as Record<DataClass, number>;
  for (const dc of DATA_CLASSES) out[dc] = r[dc] ?? fallback?.[dc] ?? 0;
  return out;
}

function resolveTenant(t: RawTenant, tier: Tier, tierFee: number): TenantRecord {
  const retention = t.retention ?? {};
  const configured: Partial<Record<DataClass, number>> = {};
  for (const dc of DATA_CLASSES) if (retention[dc] !== undefined) configured[dc] = retention[dc];

  // The id always names the tenant in payloads, even when the file does not repeat it.
  const identifiers: string[] = [];
  const seen = new Set<string>();
  for (const ident of [t.id, ...t.identifiers]) {
    if (seen.has(ident.toLowerCase())) continue;
    seen.add(ident.toLowerCase());
    identifiers.push(ident);
  }

  return {
    id: t.id,
    name: t.name,
    tier: t.tier,
    region: t.region,
    allowedRegions: [...t.allowed_regions],
    identifiers,
    retentionDays: retentionRecord(retention, tier.retentionMinDays),
    retentionConfigured: configured,
    slo: {
      availability: t.slo?.availability ?? tier.slo.availability,
      latencyThresholdMs: t.slo?.latency_threshold_ms ?? tier.slo.latencyThresholdMs,
      latencyTarget: t.slo?.latency_target ?? tier.slo.latencyTarget,
      windowDays: t.slo?.window_days ?? tier.slo.windowDays,
      minEvents: t.slo?.min_events ?? tier.slo.minEvents,
    },
    recovery: resolveRecovery(tier.recovery, t.recovery),
    sla: resolveSla(tier.sla, t.sla),
    monthlyFee: t.monthly_fee ?? tierFee,
    quotas: {
      eventsPerSecond: t.quotas?.events_per_second ?? tier.quotas.eventsPerSecond,
      bytesPerSecond: t.quotas?.bytes_per_second ?? tier.quotas.bytesPerSecond,
    },
    controls: [...new Set<Control>([...tier.controls, ...(t.controls ?? [])])],
    ...(t.encryption_key_id !== undefined ? { encryptionKeyId: t.encryption_key_id } : {}),
    legalHold: t.legal_hold ?? false,
    piiClasses: [...(t.pii_classes ?? [])],
    supportTickets: (t.support_tickets ?? []).map((x) => ({ ticket: x.ticket, from: x.from, until: x.until })),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

// The registry is shared by every request; freezing it turns an accidental mutation in some
// stage into a TypeError at the culprit instead of a silent change of another tenant's policy.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The candidate closest to `word` by edit distance, if close enough to be a likely typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

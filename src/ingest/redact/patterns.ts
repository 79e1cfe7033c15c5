// Secret and PII patterns, compiled into ONE alternation per enabled-PII combination, so that a
// value is scanned once whatever the number of classes. Hand-written because the libraries in
// this space either scan once per pattern (secretlint, gitleaks ports), carry hundreds of
// provider rules with their own false-positive profile, or cannot keep a match from crossing a
// JSON escape; the set here is small, reviewed for linear-time matching, and validated by
// checksums where a format has one (Luhn + IIN for cards, mod-97 for IBANs).
//
// Rules every alternative follows:
// - linear time: each alternative is anchored by a lookbehind at the start of a run or by a
//   literal prefix, and every repetition inside it is over a class that cannot also match
//   the next element (or is bounded), so no input makes the engine retry a run quadratically;
// - JSON-safe: no part that is replaced can contain `"` or `\`, except whole `\n`-style pairs
//   inside PEM bodies, so a marker never splits an escape in flattened JSON text;
// - the part that is replaced is the first capture group that took part in the match, or the
//   whole match if the alternative has none (e.g. only the password of `scheme://u:p@h`).
//
// PII classes implemented: email, phone, ip_address, iban. Not implemented, because no
// pattern tells them apart from ordinary text without a dictionary or a model: person_name,
// postal_address, date_of_birth (a date of birth is just a date), national_id (formats are
// per country, and the common short ones collide with ordinary ids).

import { isIPv6 } from 'node:net';
import type { PiiClass } from '../../config/types.js';

/** Classes a pattern hit can have (tenant identifiers and secret keys are decided elsewhere). */
export type PatternClass =
  | 'bearer_token'
  | 'jwt'
  | 'cloud_key'
  | 'api_key'
  | 'password'
  | 'private_key'
  | 'card_number'
  | 'email'
  | 'phone'
  | 'ip_address'
  | 'iban';

/** The PII classes this module can find; the rest of PII_CLASSES are accepted and ignored. */
export const IMPLEMENTED_PII_CLASSES = ['email', 'phone', 'ip_address', 'iban'] as const satisfies readonly PiiClass[];

/** One thing to redact: `[start, end)` of the scanned text. */
export interface PatternHit {
  start: number;
  end: number;
  cls: PatternClass;
}

type Range = readonly [number, number];

interface Alternative {
  readonly name: string;
  readonly cls: PatternClass;
  /** Only compiled in when the tenant enables this PII class. */
  readonly pii?: (typeof IMPLEMENTED_PII_CLASSES)[number];
  readonly src: string;
  /** Accepts or narrows the candidate range; null rejects it. */
  readonly check?: (text: string, start: number, end: number, m: RegExpExecArray, group: number) => Range | null;
  /** Overrides `cls` from what was matched (e.g. the key of a key=value pair). */
  readonly classify?: (m: RegExpExecArray, group: number) => PatternClass;
}

/** `[Pp][Aa]...`: case-insensitive letters inside a case-sensitive regex. */
function ci(word: string): string {
  let s = '';
  for (const ch of word) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    s += lo !== up ? `[${up}${lo}]` : ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Validators

/** Values that only stand in for a secret (masks, bind parameters, templates, booleans). */
const PLACEHOLDER =
  /^(?:\*+|x{3,}|X{3,}|\.{3}|\?|\$\d+|\$\{[^}]*\}?|\{\{.*\}?\}?|%[sd]|:[A-Za-z_]\w*|@[A-Za-z_]\w*|<[^>]*>?|\[REDACTED.*|REDACTED|null|nil|none|None|undefined|true|false|True|False|NULL)$/;

/** Whether a captured secret value is only a stand-in for one. */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value);
}


function trimTrailingDots(text: string, start: number, end: number): number {
  while (end > start && text.charCodeAt(end - 1) === 0x2e) end--;
  return end;
}

/** The Luhn (mod 10) checksum over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** The card network whose IIN range and length `digits` fits, if any. */
export function cardNetwork(digits: string): string | undefined {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === '4') return n === 13 || n === 16 || n === 19 ? 'visa' : undefined;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16 ? 'mastercard' : undefined;
  if (p2 === 34 || p2 === 37) return n === 15 ? 'amex' : undefined;
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return n >= 16 && n <= 19 ? 'discover' : undefined;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19 ? 'jcb' : undefined;
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38) return n >= 14 && n <= 19 ? 'diners' : undefined;
  return undefined;
}

/** Whether `digits` is a plausible payment card number: known IIN and length, and Luhn. */
export function isCardNumber(digits: string): boolean {
  return cardNetwork(digits) !== undefined && luhnValid(digits);
}

// How people write card numbers: all digits, or one separator kind between the usual groups.
const CARD_LAYOUTS = new Set(['4,4,4,4', '4,4,4,4,1', '4,4,4,4,2', '4,4,4,4,3', '4,6,5', '4,6,4', '4,4,4,1', '4,4,4,2', '4,4,4,3']);

function checkCard(text: string, start: number, end: number): Range | null {
  const raw = text.slice(start, end);
  if (!/[ -]/.test(raw)) return isCardNumber(raw) ? [start, end] : null;
  const sep = /[ -]/.exec(raw)![0];
  const groups = raw.split(sep);
  if (groups.some((g) => g.length === 0 || !/^\d+$/.test(g))) return null;
  // "4111 1111 1111 1111 2 items": the trailing group may belong to the text, not the card.
  for (let k = groups.length; k >= 3; k--) {
    const gs = groups.slice(0, k);
    if (!CARD_LAYOUTS.has(gs.map((g) => g.length).join(','))) continue;
    if (isCardNumber(gs.join(''))) return [start, start + gs.join(sep).length];
  }
  return null;
}

// ISO 13616 lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** Whether `compact` (no spaces, upper case) is an IBAN: country length and ISO 7064 mod 97. */
export function ibanValid(compact: string): boolean {
  if (IBAN_LENGTHS[compact.slice(0, 2)] !== compact.length) return false;
  const r = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

function checkIban(text: string, start: number, end: number): Range | null {
  // Take exactly as many characters as the country's IBAN has, then demand a word boundary:
  // trailing words the pattern swallowed ("... 00 EUR") are left out without retrying.
  const len = IBAN_LENGTHS[text.slice(start, start + 2)];
  if (len === undefined) return null;
  let compact = '';
  let p = start;
  while (p < end && compact.length < len) {
    const c = text[p++]!;
    if (c !== ' ') compact += c;
  }
  if (compact.length !== len || (p < end && text[p] !== ' ')) return null;
  return ibanValid(compact) ? [start, p] : null;
}

function checkIpv4(text: string, start: number, end: number): Range | null {
  const raw = text.slice(start, end);
  for (const o of raw.split('.')) if (Number(o) > 255 || (o.length > 1 && o[0] === '0')) return null;
  // Unspecified, broadcast, loopback and network addresses (x.0.0.0) name no one.
  if (raw === '0.0.0.0' || raw === '255.255.255.255' || raw.startsWith('127.') || raw.endsWith('.0.0.0')) return null;
  return [start, end];
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function checkIpv6(text: string, colon: number, end: number): Range | null {
  // The match starts at the first colon; the group before it (0-4 hex digits) is the address too.
  let start = colon;
  while (start > 0 && isHexCode(text.charCodeAt(start - 1))) start--;
  const e = trimTrailingDots(text, start, end);
  const raw = text.slice(start, e);
  const pct = raw.indexOf('%');
  const addr = pct >= 0 ? raw.slice(0, pct) : raw;
  if (!/\d/.test(addr) || !isIPv6(addr)) return null;
  // The unspecified and loopback addresses name no one.
  if (/^[0:]*$/.test(addr) || /^[0:]*:0*1$/.test(addr)) return null;
  return [start, e];
}

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function checkE164(text: string, start: number, end: number): Range | null {
  const n = digitCount(text.slice(start, end));
  return n >= 8 && n <= 15 ? [start, end] : null;
}

function checkNanp(text: string, start: number, end: number): Range | null {
  const raw = text.slice(start, end);
  const m = /^\(?(\d{3})\)?([ .-]?)(\d{3})([ .-])\d{4}$/.exec(raw);
  if (!m) return null;
  // NANP area codes and exchanges start with 2-9; "123-456-7890"-shaped ids are not numbers.
  if (m[1]![0]! < '2' || m[3]![0]! < '2') return null;
  if (raw[0] !== '(' && m[2] !== m[4]) return null;
  return [start, end];
}

const LOCAL_PART = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-') LOCAL_PART[ch.charCodeAt(0)] = 1;

function checkEmail(text: string, at: number, end: number): Range | null {
  // The match starts at "@" (its lookbehind vouched for a 1-64 character local part).
  let start = at;
  while (start > 0 && LOCAL_PART[text.charCodeAt(start - 1)] === 1) start--;
  return [start, end];
}

function checkBearer(text: string, start: number, end: number): Range | null {
  const e = trimTrailingDots(text, start, end);
  const tok = text.slice(start, e);
  // "Bearer authentication" is prose; a credential has digits or punctuation, or is long.
  if (tok.length < 8 || isPlaceholder(tok)) return null;
  return tok.length >= 20 || /[0-9\-_~+/=.]/.test(tok) ? [start, e] : null;
}

function checkBasic(text: string, start: number, end: number): Range | null {
  const decoded = Buffer.from(text.slice(start, end), 'base64').toString('latin1');
  return decoded.includes(':') ? [start, end] : null;
}

function checkSecretValue(text: string, start: number, end: number, m: RegExpExecArray, group: number): Range | null {
  const v = text.slice(start, end);
  if (isPlaceholder(v)) return null;
  const key = (m[group + 1] ?? '').toLowerCase();
  // PWD is the shell's working directory far more often than a password.
  if (key === 'pwd' && v.charCodeAt(0) === 0x2f) return null;
  // "token: expired" is prose; tokens and API keys are long.
  if ((key === 'token' || key.startsWith('api')) && v.length < 8) return null;
  return [start, end];
}

function checkNotPlaceholder(text: string, start: number, end: number): Range | null {
  return isPlaceholder(text.slice(start, end)) ? null : [start, end];
}

function checkPem(text: string, start: number, end: number): Range | null {
  // Without an END line the body runs to the first non-body character; blanks are not the key.
  let e = end;
  for (;;) {
    const c = text.charCodeAt(e - 1);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) e--;
    else if ((c === 0x6e || c === 0x72 || c === 0x74) && text.charCodeAt(e - 2) === 0x5c) e -= 2;
    else return [start, e];
  }
}

// ---------------------------------------------------------------------------------------------
// The alternatives, in priority order for matches that start at the same position.

// Each alternative starts by consuming one literal character or small class and only then looks
// behind for its token boundary: irregexp's per-position quick check can then reject most
// positions on the first character, which a leading lookbehind would defeat. Email and IPv6
// are anchored on their `@` / first `:` (a broad leading class would be tried everywhere) and
// get their start back in the checker.
const KEY_PREFIX = String.raw`(?:[A-Za-z0-9]{1,32}[_.\-]){0,3}`;
const PW_KEYS = [ci('password'), ci('passwd'), ci('passphrase'), ci('pwd'), `${ci('secret')}(?:[_\\-]?(?:${ci('access')}[_\\-]?)?${ci('key')})?`].join('|');
const KV_KEYS = [PW_KEYS, ci('token'), `${ci('api')}[_\\-]?${ci('key')}`, ci('apikey')].join('|');
const KV_VALUE = String.raw`(?:\\?"([^"\\\r\n]{1,512})|'([^'\\\r\n]{1,512})'|([^\s"'\\&;,<>(){}\[\]=][^\s"'\\&;,<>(){}\[\]]{0,511}))`;
// A dash is body text ("Proc-Type", "AES-128-CBC") unless it starts the five of an END line.
const PEM_BODY = String.raw`(?:[A-Za-z0-9+/=\s:,.]|-(?!----)|\\[nrt])`;
const PEM_LABEL = String.raw`[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----`;
const LABEL = String.raw`[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?`;
const B64URL = String.raw`[A-Za-z0-9_\-]`;

const ALTERNATIVES: readonly Alternative[] = [
  { name: 'pem', cls: 'private_key', check: checkPem, src: String.raw`-----BEGIN${PEM_LABEL}${PEM_BODY}{0,65536}(?:-----END${PEM_LABEL})?` },
  { name: 'jwt', cls: 'jwt', src: String.raw`e(?<!${B64URL}e)yJ${B64URL}{8,8192}\.${B64URL}{4,65536}\.${B64URL}{0,8192}` },
  { name: 'bearer', cls: 'bearer_token', check: checkBearer, src: String.raw`[Bb](?<![A-Za-z0-9][Bb])${ci('earer')}[ \t]{1,16}([A-Za-z0-9\-._~+/]{8,8192}={0,3})` },
  { name: 'basic', cls: 'password', check: checkBasic, src: String.raw`[Bb](?<![A-Za-z0-9][Bb])${ci('asic')}[ \t]{1,16}([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])` },
  { name: 'url-password', cls: 'password', check: checkNotPlaceholder, src: String.raw`:\/\/[^\s:/?#@"\\]{0,256}:([^\s/?#"\\]{1,256})@` },
  {
    name: 'key-value',
    cls: 'password',
    check: checkSecretValue,
    classify: (m, g) => {
      const k = m[g + 1] ?? '';
      return /^[Tt]/.test(k) ? 'bearer_token' : /^[Aa]/.test(k) ? 'api_key' : 'password';
    },
    src: String.raw`[:=](?<=(?<![A-Za-z0-9])${KEY_PREFIX}(${KV_KEYS})(?:\\?["'])?[ \t]{0,16}[:=])[ \t]{0,16}${KV_VALUE}`,
  },
  { name: 'aws', cls: 'cloud_key', src: String.raw`A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])` },
  { name: 'google', cls: 'cloud_key', src: String.raw`A(?<!${B64URL}A)Iza${B64URL}{35}(?!${B64URL})` },
  { name: 'github', cls: 'api_key', src: String.raw`g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])` },
  { name: 'slack', cls: 'api_key', src: String.raw`x(?<![A-Za-z0-9]x)ox[baprs]-[A-Za-z0-9\-]{10,255}(?![A-Za-z0-9\-])` },
  { name: 'stripe', cls: 'api_key', src: String.raw`[sr](?<![A-Za-z0-9_][sr])k_(?:live|test)_[A-Za-z0-9]{16,255}(?![A-Za-z0-9])` },
  { name: 'card', cls: 'card_number', check: checkCard, src: String.raw`[2-6](?<![A-Za-z0-9_.+\-][2-6])\d{3}(?:[ \-]?\d){9,15}(?![A-Za-z0-9_]|\.\d|[ \-]?\d)` },
  { name: 'iban', cls: 'iban', pii: 'iban', check: checkIban, src: String.raw`[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])` },
  {
    name: 'email',
    cls: 'email',
    pii: 'email',
    check: checkEmail,
    src: String.raw`@(?<=(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@)${LABEL}(?:\.${LABEL}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])`,
  },
  {
    name: 'ipv6',
    cls: 'ip_address',
    pii: 'ip_address',
    check: checkIpv6,
    src: String.raw`:(?<=(?<![0-9A-Za-z:.])[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,40}(?:%[0-9A-Za-z]{1,16})?(?![0-9A-Za-z:.%])`,
  },
  // Not after "Name/": "Chrome/120.0.0.0" in user agents is a version, not an address.
  { name: 'ipv4', cls: 'ip_address', pii: 'ip_address', check: checkIpv4, src: String.raw`\d(?<![0-9A-Za-z._]\d|[A-Za-z0-9]\/\d)\d{0,2}(?:\.\d{1,3}){3}(?![0-9A-Za-z_]|\.[0-9A-Za-z])` },
  { name: 'phone-e164', cls: 'phone', pii: 'phone', check: checkE164, src: String.raw`\+(?<![A-Za-z0-9_+.]\+)[1-9]\d{0,2}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d){6,13}(?![0-9A-Za-z_]|[ .\-]?\d)` },
  {
    name: 'phone-nanp',
    cls: 'phone',
    pii: 'phone',
    check: checkNanp,
    src: String.raw`(?:\((?<![A-Za-z0-9_.\/+\-]\()\d{3}\) ?|\d(?<![A-Za-z0-9_.\/+\-]\d)\d{2}[ .\-])\d{3}[ .\-]\d{4}(?![0-9A-Za-z_]|[.\-]\d)`,
  },
];

/**
 * A cheap superset test: every alternative above needs one of these literals, so a value
 * without any of them cannot match and skips the combined scan.
 */
const PRECHECK = new RegExp(
  [
    '[:=@]',
    String.raw`\+\d`,
    '-----BEGIN',
    'eyJ',
    ci('bearer'),
    ci('basic'),
    'A(?:KIA|SIA|BIA|CCA|3T|Iza)',
    'gh[pousr]_',
    'github_pat_',
    'xox[baprs]-',
    '[sr]k_(?:live|test)_',
    String.raw`\d{4}[ \-]?\d{4}`,
    String.raw`\d{3}[ .\-]\d{4}`,
    String.raw`\d\.\d{1,3}\.\d`,
    String.raw`[A-Z]{2}\d\d`,
  ].join('|'),
);

/** Whether `text` may contain a secret or PII pattern (false means it certainly does not). */
export function mayContainPattern(text: string): boolean {
  return PRECHECK.test(text);
}

function countGroups(src: string): number {
  return new RegExp(`(?:${src})|`).exec('')!.length - 1;
}

interface CompiledAlt {
  alt: Alternative;
  /** Index of the alternative's own wrapping group in the combined regex. */
  group: number;
  inner: number;
}

/** The combined scanner for one set of enabled PII classes. */
export class PatternSet {
  readonly #re: RegExp;
  readonly #alts: CompiledAlt[];
  /** Per rejected alternative k: the alternatives after k, for a retry at the same position. */
  readonly #rest: RegExp[] = [];

  constructor(pii: ReadonlySet<string>) {
    const alts = ALTERNATIVES.filter((a) => a.pii === undefined || pii.has(a.pii));
    this.#alts = [];
    let group = 1;
    const parts: string[] = [];
    for (const alt of alts) {
      const inner = countGroups(alt.src);
      this.#alts.push({ alt, group, inner });
      parts.push(`(${alt.src})`);
      group += 1 + inner;
    }
    this.#re = new RegExp(parts.join('|'), 'gd');
  }

  /** Every hit in `text`, in order and not overlapping each other. */
  scan(text: string): PatternHit[] {
    const hits: PatternHit[] = [];
    const re = this.#re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const at = m.index;
      let k = this.#which(m, 0);
      let hit = this.#accept(text, m, this.#alts[k]!, this.#alts[k]!.group);
      // A rejected candidate may hide a later alternative matching at the same position.
      while (hit === null && k + 1 < this.#alts.length) {
        const rest = (this.#rest[k] ??= this.#compileRest(k + 1));
        rest.lastIndex = at;
        const sm = rest.exec(text);
        if (sm === null) break;
        const j = this.#which(sm, k + 1);
        const base = this.#alts[k + 1]!.group - 1;
        hit = this.#accept(text, sm, this.#alts[j]!, this.#alts[j]!.group - base);
        k = j;
      }
      if (hit === null) {
        re.lastIndex = at + 1;
        continue;
      }
      hits.push(hit.h);
      re.lastIndex = Math.max(hit.next, at + 1);
    }
    return hits;
  }

  /** Index of the alternative (from `from` on) that produced `m`. */
  #which(m: RegExpExecArray, from: number): number {
    const base = this.#alts[from]!.group - 1;
    let k = from;
    while (m[this.#alts[k]!.group - base] === undefined) k++;
    return k;
  }

  /** Sticky alternation of alternatives `from`.. with the same group layout shifted down. */
  #compileRest(from: number): RegExp {
    return new RegExp(this.#alts.slice(from).map((ca) => `(${ca.alt.src})`).join('|'), 'yd');
  }

  #accept(text: string, m: RegExpExecArray, ca: CompiledAlt, group: number): { h: PatternHit; next: number } | null {
    const ind = m.indices!;
    let [s, e] = ind[group]!;
    for (let g = group + 1; g <= group + ca.inner; g++) {
      // classify() captures the key in the first inner group; the value is a later one.
      if (ca.alt.classify && g === group + 1) continue;
      const r = ind[g];
      if (r !== undefined) {
        [s, e] = r;
        break;
      }
    }
    const whole = ind[group]![1];
    if (e <= s) return null;
    let range: Range | null = [s, e];
    if (ca.alt.check) range = ca.alt.check(text, s, e, m, group);
    if (range === null || range[1] <= range[0]) return null;
    const cls = ca.alt.classify ? ca.alt.classify(m, group) : ca.alt.cls;
    return { h: { start: range[0], end: range[1], cls }, next: whole };
  }
}

const SETS = new Map<string, PatternSet>();

/** The (cached) scanner for the implemented PII classes among `piiClasses`. */
export function patternSetFor(piiClasses: readonly string[]): PatternSet {
  const enabled = IMPLEMENTED_PII_CLASSES.filter((c) => piiClasses.includes(c));
  const key = enabled.join(',');
  let set = SETS.get(key);
  if (set === undefined) {
    set = new PatternSet(new Set(enabled));
    SETS.set(key, set);
  }
  return set;
}

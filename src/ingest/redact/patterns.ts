// Secret and PII patterns, compiled into ONE alternation per enabled-PII combination, so that a
// value is scanned once whatever the number of classes. Hand-written because what is needed is
// narrow: one combined pass per attribute value, matches that never cross a JSON escape, and
// checksums where a format has one (Luhn + IIN for cards, mod-97 for IBANs). Secret scanners
// for files and repositories bring hundreds of provider rules, typically run them one by one,
// and have a false-positive budget meant for a human reviewer, not for every value of a span.
//
// Rules every alternative follows:
// - linear time: an alternative consumes a literal first character and only then checks its
//   token boundary behind it, every repetition is bounded, and a repeated element that could
//   also match what follows it is kept short, so no input makes the engine re-read a run
//   quadratically (the tests time the usual regex-DoS shapes);
// - JSON-safe: no part that is replaced can contain `"` or `\`, except whole `\n`-style pairs
//   inside PEM bodies, so a marker never splits an escape in flattened JSON text;
// - what is replaced is the alternative's value group if it has one (only the password of
//   `scheme://u:p@h`, only the value of `password=...`), else the whole match; a checker may
//   narrow or widen that range, or reject the candidate.
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
  /** A class matching every character the alternative can start with (retries use it). */
  readonly first: string;
  readonly cls: PatternClass;
  /** Only compiled in when the tenant enables this PII class. */
  readonly pii?: (typeof IMPLEMENTED_PII_CLASSES)[number];
  readonly src: string;
  /** Accepts or narrows the candidate range; null rejects it. */
  readonly check?: (text: string, start: number, end: number, m: RegExpExecArray | undefined) => Range | null;
  /** Overrides `cls` from what was matched (e.g. the key of a key=value pair). */
  readonly classify?: (m: RegExpExecArray) => PatternClass;
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

/** An ASCII membership table for a regex character class, plus whether it takes non-ASCII. */
interface CharSet {
  readonly ascii: Uint8Array;
  readonly nonAscii: boolean;
}

function charSet(cls: string): CharSet {
  const re = new RegExp(`^${cls}$`);
  return { ascii: Uint8Array.from({ length: 128 }, (_, c) => (re.test(String.fromCharCode(c)) ? 1 : 0)), nonAscii: re.test('\u00e9') };
}

/**
 * Where a run of `set` characters starting at `end` stops. The regexes bound their repetitions
 * (so backtracking stays shallow); a secret longer than the bound is finished here, in linear
 * time, instead of leaking its tail.
 */
function runEnd(text: string, end: number, set: CharSet): number {
  const n = text.length;
  while (end < n) {
    const c = text.charCodeAt(end);
    if (c < 128 ? set.ascii[c] !== 1 : !set.nonAscii) break;
    end++;
  }
  return end;
}

const BEARER_SET = charSet(String.raw`[A-Za-z0-9\-._~+/]`);
const BASIC_SET = charSet(String.raw`[A-Za-z0-9+/]`);
const ALNUM_SET = charSet(String.raw`[A-Za-z0-9]`);
const ALNUM_UNDERSCORE_SET = charSet(String.raw`[A-Za-z0-9_]`);
const ALNUM_DASH_SET = charSet(String.raw`[A-Za-z0-9\-]`);
const B64URL_SET = charSet(String.raw`[A-Za-z0-9_\-]`);
const DQ_VALUE_SET = charSet(String.raw`[^"\\\r\n]`);
const SQ_VALUE_SET = charSet(String.raw`[^'"\\\r\n]`);
const BARE_VALUE_SET = charSet(String.raw`[^\s"'\\&;,<>(){}\[\]]`);
const PEM_BODY_NO_DASH_SET = charSet(String.raw`[A-Za-z0-9+/=\s:,.]`);

/** A checker that only finishes a token of `set` characters the regex had to cut short. */
function finishToken(set: CharSet): (text: string, start: number, end: number) => Range {
  return (text, start, end) => [start, runEnd(text, end, set)];
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

/** The GS1 (GTIN/EAN) mod-10 check digit, weights 3,1 from the right of the payload. */
export function gs1Valid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = 4 - w) sum += (digits.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10 === digits.charCodeAt(digits.length - 1) - 48;
}

/** Whether `digits` is a plausible payment card number: known IIN and length, and Luhn. */
export function isCardNumber(digits: string): boolean {
  return cardNetwork(digits) !== undefined && luhnValid(digits);
}

// How people write card numbers: all digits, or one separator kind between the usual groups.
const CARD_LAYOUTS = new Set(['4,4,4,4', '4,4,4,4,1', '4,4,4,4,2', '4,4,4,4,3', '4,6,5', '4,6,4', '4,4,4,1', '4,4,4,2', '4,4,4,3']);

function checkCard(text: string, start: number, end: number): Range | null {
  const raw = text.slice(start, end);
  if (!/[ -]/.test(raw)) {
    // In one piece, only 14-16 digits: 17-19 digits are far more often 64-bit decimal ids
    // (snowflakes, Datadog trace ids), and 13 digits are EAN-13 barcodes (German ones start
    // with 40-44, a "Visa" prefix) rather than the extinct 13-digit Visa; a 14-digit number
    // with a valid GS1 check digit is taken for a GTIN-14. Grouped forms keep every length.
    if (raw.length < 14 || raw.length > 16 || (raw.length === 14 && gs1Valid(raw))) return null;
    return isCardNumber(raw) ? [start, end] : null;
  }
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
  // Octets by hand (no split/Number): this runs for every address in every span.
  let octet = 0;
  let digits = 0;
  let leadingZero = false;
  let first = -1;
  let rest = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (octet > 255 || (leadingZero && digits > 1)) return null;
      if (first < 0) first = octet;
      else rest = rest * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      if (digits === 0) leadingZero = c === 0x30;
      octet = octet * 10 + (c - 48);
      digits++;
    }
  }
  // Unspecified, broadcast, loopback and network addresses (x.0.0.0) name no one.
  if (first === 127 || rest === 0 || (first === 255 && rest === 0xffffff)) return null;
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
  const m = /^(?:1[ .-])?(\(?)(\d{3})\)?([ .-]?)(\d{3})([ .-])\d{4}$/.exec(raw);
  if (!m) return null;
  // NANP area codes and exchanges start with 2-9; "123-456-7890"-shaped ids are not numbers.
  if (m[2]![0]! < '2' || m[4]![0]! < '2') return null;
  if (m[1] !== '(' && m[3] !== m[5]) return null;
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

function checkJwt(text: string, start: number, end: number): Range | null {
  // header.payload.signature (the signature may be empty), each part walked to its end.
  const h = runEnd(text, end, B64URL_SET);
  if (text.charCodeAt(h) !== 0x2e) return null;
  const p = runEnd(text, h + 1, B64URL_SET);
  if (p - h - 1 < 4 || text.charCodeAt(p) !== 0x2e) return null;
  return [start, runEnd(text, p + 1, B64URL_SET)];
}

function checkBearer(text: string, start: number, end: number): Range | null {
  let e = runEnd(text, end, BEARER_SET);
  for (let pad = 0; pad < 3 && text.charCodeAt(e) === 0x3d; pad++) e++;
  e = trimTrailingDots(text, start, e);
  const tok = text.slice(start, e);
  // "Bearer authentication" is prose; a credential has digits or punctuation, or is long.
  if (tok.length < 8 || isPlaceholder(tok)) return null;
  return tok.length >= 20 || /[0-9\-_~+/=.]/.test(tok) ? [start, e] : null;
}

function checkBasic(text: string, start: number, end: number): Range | null {
  let e = runEnd(text, end, BASIC_SET);
  for (let pad = 0; pad < 2 && text.charCodeAt(e) === 0x3d; pad++) e++;
  // Only credentials: base64 of "user:password".
  const decoded = Buffer.from(text.slice(start, e), 'base64').toString('latin1');
  return decoded.includes(':') ? [start, e] : null;
}

function checkSecretValue(text: string, start: number, end: number, m: RegExpExecArray | undefined): Range | null {
  // Groups: 1 the key, 2 a "quoted", 3 a 'quoted', 4 a bare value; finish the one that matched.
  const e = runEnd(text, end, m?.[2] !== undefined ? DQ_VALUE_SET : m?.[3] !== undefined ? SQ_VALUE_SET : BARE_VALUE_SET);
  const v = text.slice(start, e);
  if (isPlaceholder(v)) return null;
  const key = (m?.[1] ?? '').toLowerCase();
  // PWD is the shell's working directory far more often than a password.
  if (key === 'pwd' && v.charCodeAt(0) === 0x2f) return null;
  // "token: expired" is prose; tokens and API keys are long.
  if ((key === 'token' || key.startsWith('api')) && v.length < 8) return null;
  return [start, e];
}

function checkNotPlaceholder(text: string, start: number, end: number): Range | null {
  return isPlaceholder(text.slice(start, end)) ? null : [start, end];
}

const PEM_END = /^-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const PEM_ENDS_WITH_END = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----$/;

function checkPem(text: string, start: number, end: number): Range | null {
  if (PEM_ENDS_WITH_END.test(text.slice(Math.max(start, end - 80), end))) return [start, end];
  // The regex took the header and the start of the body; the rest of the body and the END line
  // are walked here, so a key of any size is one hit.
  let e = end;
  for (;;) {
    e = runEnd(text, e, PEM_BODY_NO_DASH_SET);
    const c = text.charCodeAt(e);
    if (c === 0x2d && !text.startsWith('-----', e)) e++;
    else if (c === 0x5c && /[nrt]/.test(text[e + 1] ?? '')) e += 2;
    else break;
  }
  const m = PEM_END.exec(text.slice(e, e + 80));
  if (m !== null) return [start, e + m[0].length];
  // No END line (a truncated value): the key runs to the first non-body character, but the
  // blanks before that are not part of it.
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
// The value: "quoted", 'quoted' or bare; the checker finishes values longer than the bound.
const KV_VALUE = String.raw`(?:\\?"([^"\\\r\n]{1,256})|'([^'"\\\r\n]{1,256})|([^\s"'\\&;,<>(){}\[\]=][^\s"'\\&;,<>(){}\[\]]{0,255}))`;
// A dash is body text ("Proc-Type", "AES-128-CBC") unless it starts the five of an END line.
const PEM_BODY = String.raw`(?:[A-Za-z0-9+/=\s:,.]|-(?!----)|\\[nrt])`;
const PEM_LABEL = String.raw`[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----`;
const LABEL = String.raw`[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?`;
const B64URL = String.raw`[A-Za-z0-9_\-]`;

const ALTERNATIVES: readonly Alternative[] = [
  { name: 'pem', first: '-', cls: 'private_key', check: checkPem, src: String.raw`-----BEGIN${PEM_LABEL}${PEM_BODY}{0,4096}(?:-----END${PEM_LABEL})?` },
  { name: 'jwt', first: 'e', cls: 'jwt', check: checkJwt, src: String.raw`e(?<!${B64URL}e)yJ${B64URL}{8}` },
  { name: 'bearer', first: '[Bb]', cls: 'bearer_token', check: checkBearer, src: String.raw`[Bb](?<![A-Za-z0-9][Bb])${ci('earer')}[ \t]{1,16}([A-Za-z0-9\-._~+/]{8,4096})` },
  { name: 'basic', first: '[Bb]', cls: 'password', check: checkBasic, src: String.raw`[Bb](?<![A-Za-z0-9][Bb])${ci('asic')}[ \t]{1,16}([A-Za-z0-9+/]{8,4096})` },
  { name: 'url-password', first: ':', cls: 'password', check: checkNotPlaceholder, src: String.raw`:\/\/[^\s:/?#@"\\]{0,256}:([^\s/?#"\\]{1,256})@` },
  {
    name: 'key-value',
    first: '[:=]',
    cls: 'password',
    check: checkSecretValue,
    classify: (m) => {
      const k = m[1] ?? '';
      return /^[Tt]/.test(k) ? 'bearer_token' : /^[Aa]/.test(k) ? 'api_key' : 'password';
    },
    src: String.raw`[:=](?<=(?<![A-Za-z0-9])${KEY_PREFIX}(${KV_KEYS})(?:\\?["'])?[ \t]{0,16}[:=])[ \t]{0,16}${KV_VALUE}`,
  },
  { name: 'aws', first: 'A', cls: 'cloud_key', src: String.raw`A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])` },
  { name: 'google', first: 'A', cls: 'cloud_key', src: String.raw`A(?<!${B64URL}A)Iza${B64URL}{35}(?!${B64URL})` },
  { name: 'github', first: 'g', cls: 'api_key', check: finishToken(ALNUM_UNDERSCORE_SET), src: String.raw`g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_[A-Za-z0-9_]{22})` },
  { name: 'slack', first: 'x', cls: 'api_key', check: finishToken(ALNUM_DASH_SET), src: String.raw`x(?<![A-Za-z0-9]x)ox[baprs]-[A-Za-z0-9\-]{10}` },
  { name: 'stripe', first: '[sr]', cls: 'api_key', check: finishToken(ALNUM_SET), src: String.raw`[sr](?<![A-Za-z0-9_][sr])k_(?:live|test)_[A-Za-z0-9]{16}` },
  { name: 'card', first: '[2-6]', cls: 'card_number', check: checkCard, src: String.raw`[2-6](?<![A-Za-z0-9_.+\-][2-6])\d{3}(?:[ \-]?\d){9,15}(?![A-Za-z0-9_]|\.\d|[ \-]?\d)` },
  { name: 'iban', first: '[A-Z]', cls: 'iban', pii: 'iban', check: checkIban, src: String.raw`[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])` },
  {
    name: 'email',
    first: '@',
    cls: 'email',
    pii: 'email',
    check: checkEmail,
    src: String.raw`@(?<=(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@)${LABEL}(?:\.${LABEL}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])`,
  },
  {
    name: 'ipv6',
    first: ':',
    cls: 'ip_address',
    pii: 'ip_address',
    check: checkIpv6,
    src: String.raw`:(?<=(?<![0-9A-Za-z:.])[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,40}(?:%[0-9A-Za-z]{1,16})?(?![0-9A-Za-z:.%])`,
  },
  // Not after "Name/": "Chrome/120.0.0.0" in user agents is a version, not an address.
  { name: 'ipv4', first: '\\d', cls: 'ip_address', pii: 'ip_address', check: checkIpv4, src: String.raw`\d(?<![0-9A-Za-z._]\d|[A-Za-z0-9]\/\d)\d{0,2}(?:\.\d{1,3}){3}(?![0-9A-Za-z_]|\.[0-9A-Za-z])` },
  { name: 'phone-e164', first: '\\+', cls: 'phone', pii: 'phone', check: checkE164, src: String.raw`\+(?<![A-Za-z0-9_+.]\+)[1-9]\d{0,2}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d){6,13}(?![0-9A-Za-z_]|[ .\-]?\d)` },
  {
    name: 'phone-nanp',
    first: '[(\\d]',
    cls: 'phone',
    pii: 'phone',
    check: checkNanp,
    // With or without the country code "1-"; the boundary is checked before whichever comes first.
    src: String.raw`(?:1(?<![A-Za-z0-9_.\/+\-]1)[ .\-](?:\(\d{3}\) ?|\d{3}[ .\-])|\((?<![A-Za-z0-9_.\/+\-]\()\d{3}\) ?|\d(?<![A-Za-z0-9_.\/+\-]\d)\d{2}[ .\-])\d{3}[ .\-]\d{4}(?![0-9A-Za-z_]|[.\-]\d)`,
  },
];

function lowerIs(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) if ((text.charCodeAt(at + k) | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Whether `text` may contain a secret or PII pattern; false means it certainly does not. A
 * superset test in one pass of plain JS (several times faster than a regex alternation on short
 * values): every alternative above needs one of
 *   `:` `=` `@` `+`, "-----BEGIN", "eyJ", "bearer"/"basic" (any case), "AKIA" & co, "AIza",
 *   "gh?_", "github_pat_", "xox?-", "sk_live_" & co — or, inside one run of digits and
 *   ` .-()`: 7+ digits (cards, NANP phones) or 3 dots and 4 digits (IPv4) — or two capitals
 *   followed by two digits (IBAN).
 */
export function mayContainPattern(text: string): boolean {
  const n = text.length;
  let digits = 0;
  let dots = 0;
  let upper = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      if (digits >= 7 || (dots >= 3 && digits >= 4)) return true;
      if (upper >= 2) {
        const d = text.charCodeAt(i + 1);
        if (d >= 48 && d <= 57) return true;
      }
      upper = 0;
      continue;
    }
    switch (c) {
      case 0x3a: // :
      case 0x3d: // =
      case 0x40: // @
      case 0x2b: // +
        return true;
      case 0x2e: // .
        dots++;
        upper = 0;
        continue;
      case 0x20:
      case 0x28:
      case 0x29:
        upper = 0;
        continue;
      case 0x2d: // -
        if (text.startsWith('----BEGIN', i + 1)) return true;
        upper = 0;
        continue;
      case 0x65: // e
        if (text.charCodeAt(i + 1) === 0x79 && text.charCodeAt(i + 2) === 0x4a) return true;
        break;
      case 0x42: // B
      case 0x62: // b
        if (lowerIs(text, i + 1, 'earer') || lowerIs(text, i + 1, 'asic')) return true;
        break;
      case 0x41: // A
        if (/^(?:KIA|SIA|BIA|CCA|3T|Iza)/.test(text.slice(i + 1, i + 4))) return true;
        break;
      case 0x67: // g
        if (/^h[pousr]_/.test(text.slice(i + 1, i + 4)) || text.startsWith('ithub_pat_', i + 1)) return true;
        break;
      case 0x78: // x
        if (/^ox[baprs]-/.test(text.slice(i + 1, i + 5))) return true;
        break;
      case 0x73: // s
      case 0x72: // r
        if (text.startsWith('k_live_', i + 1) || text.startsWith('k_test_', i + 1)) return true;
        break;
    }
    digits = 0;
    dots = 0;
    upper = c >= 65 && c <= 90 ? upper + 1 : 0;
  }
  return false;
}

function countGroups(src: string): number {
  return new RegExp(`(?:${src})|`).exec('')!.length - 1;
}

/** `src` with its capture groups made non-capturing (escapes and classes respected). */
function decapture(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      out += c + src[i + 1]!;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '(' && src[i + 1] !== '?') {
      out += '(?:';
    } else out += c;
  }
  return out;
}

interface CompiledAlt {
  readonly alt: Alternative;
  /** Capture groups of the alternative's own source (value, or key then value). */
  readonly inner: number;
  /** ASCII characters the alternative can start with. */
  readonly first: Uint8Array;
  /** The alternative alone, with its groups and match indices, re-run where it matched. */
  sticky?: RegExp;
}

function firstSet(cls: string): Uint8Array {
  const re = new RegExp(`^${cls}`);
  return Uint8Array.from({ length: 128 }, (_, c) => (re.test(String.fromCharCode(c)) ? 1 : 0));
}

interface Accepted {
  hit: PatternHit;
  /** Where the match (not only the redacted part) ended: scanning resumes there. */
  next: number;
}

/**
 * The combined scanner for one set of enabled PII classes. The main alternation has exactly
 * one capture group per alternative (which one matched); capture groups inside alternatives
 * and match indices are only computed, by re-running that alternative alone, when needed.
 */
export class PatternSet {
  readonly #re: RegExp;
  readonly #alts: CompiledAlt[];
  /** Per rejected alternative k: the alternatives after k, for a retry at the same position. */
  readonly #rest: RegExp[] = [];

  constructor(pii: ReadonlySet<string>) {
    this.#alts = ALTERNATIVES.filter((a) => a.pii === undefined || pii.has(a.pii)).map((alt) => ({ alt, inner: countGroups(alt.src), first: firstSet(alt.first) }));
    this.#re = this.#alternation(0, 'g');
  }

  /**
   * Every hit in `text`, ordered by where its match starts. Matches do not overlap; a hit an
   * email or IPv6 checker widened backwards may overlap the one before (callers merge them).
   */
  scan(text: string): PatternHit[] {
    const hits: PatternHit[] = [];
    const re = this.#re;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const at = m.index;
      let k = which(m, 0);
      let acc = this.#accept(text, at, m[0].length, k);
      // A rejected candidate may hide a later alternative matching at the same position.
      while (acc === null && this.#laterMayStart(k, text.charCodeAt(at))) {
        const rest = (this.#rest[k] ??= this.#alternation(k + 1, 'y'));
        rest.lastIndex = at;
        const sm = rest.exec(text);
        if (sm === null) break;
        k = which(sm, k + 1);
        acc = this.#accept(text, at, sm[0].length, k);
      }
      if (acc === null) {
        re.lastIndex = at + 1;
        continue;
      }
      hits.push(acc.hit);
      re.lastIndex = Math.max(acc.next, at + 1);
    }
    return hits;
  }

  #laterMayStart(k: number, c: number): boolean {
    for (let j = k + 1; j < this.#alts.length; j++) if (this.#alts[j]!.first[c] === 1) return true;
    return false;
  }

  #alternation(from: number, flags: string): RegExp {
    return new RegExp(this.#alts.slice(from).map((ca) => `(${decapture(ca.alt.src)})`).join('|'), flags);
  }

  #accept(text: string, at: number, len: number, k: number): Accepted | null {
    const ca = this.#alts[k]!;
    const { alt } = ca;
    let s = at;
    let e = at + len;
    let m: RegExpExecArray | undefined;
    if (ca.inner > 0 || alt.check !== undefined || alt.classify !== undefined) {
      if (ca.inner > 0) {
        const re = (ca.sticky ??= new RegExp(alt.src, 'yd'));
        re.lastIndex = at;
        m = re.exec(text) ?? undefined;
        if (m === undefined) return null;
        // classify() reads the key from the first group; the redacted value is a later one.
        for (let g = alt.classify ? 2 : 1; g <= ca.inner; g++) {
          const r = m.indices![g];
          if (r !== undefined) {
            [s, e] = r;
            break;
          }
        }
      }
      if (e <= s) return null;
      if (alt.check !== undefined) {
        const r = alt.check(text, s, e, m);
        if (r === null || r[1] <= r[0]) return null;
        [s, e] = r;
      }
    }
    const cls = alt.classify !== undefined && m !== undefined ? alt.classify(m) : alt.cls;
    return { hit: { start: s, end: e, cls }, next: Math.max(at + len, e) };
  }
}

/** Which alternative (counted from `from`) produced `m`: the one whose group took part. */
function which(m: RegExpExecArray, from: number): number {
  let g = 1;
  while (m[g] === undefined) g++;
  return from + g - 1;
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

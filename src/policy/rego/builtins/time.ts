// Time builtins. Hand-written because OPA's time functions use Go's reference-time layouts
// ("2006-01-02T15:04:05Z07:00"), Go's duration syntax and Go's calendar normalisation, none of
// which a JS date library reproduces. Instants are bigint nanoseconds since the Unix epoch so
// they stay exact; zone offsets come from Intl ("UTC", "" and "Local" are UTC: the server's
// local zone must not change policy results).
import type { BuiltinDef, BuiltinContext } from './types.js';
import { isNumber, type RNumber, type Value } from '../value.js';
import { bigOf, builtinError, fromBig, isInt, oneOf, smallInt, str, typeError } from './operands.js';

const NS_PER_S = 1_000_000_000n;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

// ---- zones ----

const ZONES = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormatter(name: string, tz: string): Intl.DateTimeFormat | null {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return null;
  let f = ZONES.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      builtinError(name, `unknown time zone ${tz}`);
    }
    ZONES.set(tz, f);
  }
  return f;
}

/** Offset east of UTC, in seconds, of zone `tz` at instant `sec` (Unix seconds). */
function zoneOffset(name: string, tz: string, sec: number): number {
  const f = zoneFormatter(name, tz);
  if (!f) return 0;
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(sec * 1000))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const local = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) / 1000;
  return local - sec;
}

/** A broken-down wall-clock time in some zone. */
interface Civil {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number; // 0 = Sunday
  yday: number; // 1-based
  offset: number; // seconds east of UTC
  zone: string; // abbreviation
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const ABBREV = new Map<string, Intl.DateTimeFormat>();

function zoneAbbrev(tz: string, sec: number, offset: number): string {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return 'UTC';
  // en-US knows the American abbreviations (EST), en-GB the European ones (CET); Go's tzdata
  // has more, so zones neither knows get Go's numeric form (e.g. "+0530").
  for (const locale of ['en-US', 'en-GB']) {
    try {
      const key = `${locale}\u0000${tz}`;
      let f = ABBREV.get(key);
      if (!f) {
        f = new Intl.DateTimeFormat(locale, { timeZone: tz, timeZoneName: 'short' });
        ABBREV.set(key, f);
      }
      const p = f.formatToParts(new Date(sec * 1000));
      const z = p.find((x) => x.type === 'timeZoneName')?.value;
      if (z && !/^(GMT|UTC)[+-]/.test(z)) return z;
    } catch {
      break;
    }
  }
  const s = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  return `${s}${String(h).padStart(2, '0')}${m ? String(m).padStart(2, '0') : ''}`;
}

/** Break an instant (ns) down in zone tz. */
function civil(name: string, ns: bigint, tz: string): Civil {
  const sec = floorDiv(ns, NS_PER_S);
  const nanos = Number(ns - sec * NS_PER_S);
  const offset = zoneOffset(name, tz, Number(sec));
  const d = new Date((Number(sec) + offset) * 1000);
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanos,
    weekday: d.getUTCDay(),
    yday: Math.floor((d.getTime() - start) / 86400000) + 1,
    offset,
    zone: zoneAbbrev(tz, Number(sec), offset),
  };
}

function utcSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setUTCHours(h, mi, s, 0);
  return dt.getTime() / 1000;
}

function daysIn(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

// ---- operands ----

function checkNs(name: string, n: bigint): bigint {
  if (n > INT64_MAX || n < INT64_MIN) builtinError(name, 'timestamp too big');
  return n;
}

function nsOf(name: string, v: Value, pos: number): bigint {
  if (!isNumber(v)) typeError(name, pos, 'number', v);
  // Fractional nanoseconds are truncated, as OPA's int64 conversion does.
  return checkNs(name, isInt(v) ? bigOf(v) : BigInt(Math.trunc(Number(v))));
}

/** The instant and zone of time.date/clock/weekday/format operands: ns or [ns, tz(, layout)]. */
function instant(name: string, v: Value, maxLen: number): { ns: bigint; tz: string; layout?: string } {
  if (isNumber(v)) return { ns: nsOf(name, v, 1), tz: 'UTC' };
  if (Array.isArray(v)) {
    if (v.length < 2 || v.length > maxLen) builtinError(name, `array should have ${maxLen === 2 ? '2' : '2 or 3'} elements`);
    const ns = nsOf(name, v[0]!, 1);
    const tz = v[1];
    if (typeof tz !== 'string') return typeError(name, 1, 'string', tz!);
    if (v.length === 3) {
      const layout = v[2];
      if (typeof layout !== 'string') return typeError(name, 1, 'string', layout!);
      return { ns, tz, layout };
    }
    return { ns, tz };
  }
  return typeError(name, 1, oneOf('number', 'array'), v);
}

// ---- Go layouts ----

const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

type Tok = { lit: string } | { std: string; digits?: number };

const STD_PREFIXES = [
  'January', 'Jan', 'Monday', 'Mon', 'MST',
  'Z07:00:00', 'Z070000', 'Z07:00', 'Z0700', 'Z07',
  '-07:00:00', '-070000', '-07:00', '-0700', '-07',
  '2006', '002', '__2', '_2', '01', '02', '03', '04', '05', '06', '15', 'PM', 'pm',
  '1', '2', '3', '4', '5',
];

const layoutCache = new Map<string, Tok[]>();

/** Split a Go layout into literal text and standard tokens (Go's nextStdChunk); cached, do not mutate. */
export function tokenizeLayout(layout: string): Tok[] {
  let toks = layoutCache.get(layout);
  if (toks === undefined) {
    toks = tokenizeLayoutUncached(layout);
    if (layoutCache.size < 256) layoutCache.set(layout, toks);
  }
  return toks;
}

function tokenizeLayoutUncached(layout: string): Tok[] {
  const out: Tok[] = [];
  let lit = '';
  let i = 0;
  const push = (t: Tok): void => {
    if (lit) out.push({ lit });
    lit = '';
    out.push(t);
  };
  while (i < layout.length) {
    const c = layout[i]!;
    if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const d = layout[i + 1]!;
      let j = i + 1;
      while (j < layout.length && layout[j] === d) j++;
      if (!/[0-9]/.test(layout[j] ?? '')) {
        push({ std: d === '0' ? '.0' : '.9', digits: j - i - 1 });
        i = j;
        continue;
      }
    }
    let matched = '';
    for (const p of STD_PREFIXES) {
      if (!layout.startsWith(p, i)) continue;
      // "Jan" and "Mon" must not be the start of a longer lowercase word, as in Go.
      if ((p === 'Jan' || p === 'Mon') && /[a-z]/.test(layout[i + p.length] ?? '')) continue;
      if (p === '_2' && layout.startsWith('_2006', i)) continue;
      matched = p;
      break;
    }
    if (matched) {
      push({ std: matched });
      i += matched.length;
      continue;
    }
    lit += c;
    i++;
  }
  if (lit) out.push({ lit });
  return out;
}

const pad = (n: number, w: number, ch = '0'): string => String(n).padStart(w, ch);

function fmtOffset(std: string, off: number): string {
  if (std.startsWith('Z') && off === 0) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const s = pad(a % 60, 2);
  switch (std.slice(1)) {
    case '07':
      return sign + h;
    case '0700':
      return sign + h + m;
    case '07:00':
      return `${sign}${h}:${m}`;
    case '070000':
      return sign + h + m + s;
    default:
      return `${sign}${h}:${m}:${s}`;
  }
}

/** Format a civil time with a Go layout. */
export function formatLayout(c: Civil, layout: string): string {
  let out = '';
  for (const t of tokenizeLayout(NAMED_LAYOUTS[layout] ?? layout)) {
    if ('lit' in t) {
      out += t.lit;
      continue;
    }
    const h12 = c.hour % 12 === 0 ? 12 : c.hour % 12;
    switch (t.std) {
      case 'January': out += MONTHS[c.month - 1]; break;
      case 'Jan': out += MONTHS[c.month - 1]!.slice(0, 3); break;
      case 'Monday': out += DAYS[c.weekday]; break;
      case 'Mon': out += DAYS[c.weekday]!.slice(0, 3); break;
      case 'MST': out += c.zone; break;
      case '2006': out += pad(c.year, 4); break;
      case '06': out += pad(c.year % 100, 2); break;
      case '01': out += pad(c.month, 2); break;
      case '1': out += String(c.month); break;
      case '02': out += pad(c.day, 2); break;
      case '2': out += String(c.day); break;
      case '_2': out += pad(c.day, 2, ' '); break;
      case '002': out += pad(c.yday, 3); break;
      case '__2': out += pad(c.yday, 3, ' '); break;
      case '15': out += pad(c.hour, 2); break;
      case '03': out += pad(h12, 2); break;
      case '3': out += String(h12); break;
      case '04': out += pad(c.minute, 2); break;
      case '4': out += String(c.minute); break;
      case '05': out += pad(c.second, 2); break;
      case '5': out += String(c.second); break;
      case 'PM': out += c.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += c.hour >= 12 ? 'pm' : 'am'; break;
      case '.0':
      case '.9': {
        const digits = pad(c.nanos, 9).slice(0, t.digits);
        if (t.std === '.0') out += `.${digits}`;
        else {
          const trimmed = digits.replace(/0+$/, '');
          if (trimmed) out += `.${trimmed}`;
        }
        break;
      }
      default:
        out += fmtOffset(t.std, c.offset);
    }
  }
  return out;
}

class ParseFail extends Error {}

const fracRegexes = new Map<number | undefined, RegExp>();
function fracRegex(digits: number | undefined): RegExp {
  let r = fracRegexes.get(digits);
  if (!r) fracRegexes.set(digits, (r = new RegExp(`^[.,](\\d{${digits}})`)));
  return r;
}


/**
 * The common shapes of RFC 3339 (what parseLayout would return for them), or undefined to
 * take the general parser (anything unusual, out of range or erroneous).
 */
function fastRFC3339(value: string): bigint | undefined {
  const r = fastRFC3339Ns(value);
  return r === undefined ? undefined : typeof r === 'bigint' ? r : BigInt(r);
}

/**
 * time.parse_rfc3339_ns for the common shapes, as a Rego number, with the range checks done on
 * seconds so that only the result itself is a bigint; undefined takes the general path.
 */
function fastRFC3339Ns(value: string): RNumber | undefined {
  // Fixed positions of YYYY-MM-DDTHH:MM:SS, read as char codes (a regex with captures costs more than the rest).
  const n = value.length;
  if (n < 20 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 84 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > monthDays(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let i = 19;
  let nanos = 0;
  if (value.charCodeAt(i) === 46) {
    let scale = 100_000_000;
    i++;
    const from = i;
    while (i < n && i - from < 9) {
      const c = value.charCodeAt(i);
      if (c < 48 || c > 57) break;
      nanos += (c - 48) * scale;
      scale /= 10;
      i++;
    }
    if (i === from) return undefined;
  }
  let offset = 0;
  const z = value.charCodeAt(i);
  if (z === 90 && i + 1 === n) offset = 0;
  else if ((z === 43 || z === 45) && i + 6 === n && value.charCodeAt(i + 3) === 58) {
    const oh = digits(value, i + 1, 2);
    const om = digits(value, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return undefined;
    offset = (oh * 3600 + om * 60) * (z === 45 ? -1 : 1);
  } else return undefined;
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  // Inside int64 nanoseconds with a margin; the general path decides the edges.
  if (secs > 9_000_000_000 || secs < -9_000_000_000) return undefined;
  if (secs > -9_000_000 && secs < 9_000_000) return secs * 1e9 + nanos;
  return BigInt(secs) * NS_PER_S + BigInt(nanos);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthDays(y: number, m: number): number {
  if (m !== 2) return MONTH_DAYS[m - 1]!;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

/** The decimal number in value[at, at+len), or -1 when a character is not a digit. */
function digits(value: string, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (the era-based civil-date formula). */
function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Parse `value` with a Go layout into Unix nanoseconds (Go's time.Parse, zone default UTC). */
export function parseLayout(layoutIn: string, value: string): bigint {
  const layout = NAMED_LAYOUTS[layoutIn] ?? layoutIn;
  if (layout === NAMED_LAYOUTS.RFC3339) {
    const r = fastRFC3339(value);
    if (r !== undefined) return r;
  }
  const quote = (s: string): string => JSON.stringify(s);
  const cannot = (rest: string, elem: string): never => {
    throw new ParseFail(`parsing time ${quote(value)} as ${quote(layout)}: cannot parse ${quote(rest)} as ${quote(elem)}`);
  };
  const range = (what: string): never => {
    throw new ParseFail(`parsing time ${quote(value)}: ${what} out of range`);
  };
  let year = 1;
  let month = 1;
  let day = 1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  let v = value;
  const toks = tokenizeLayout(layout);
  const num = (min: number, max: number, elem: string): number => {
    // Greedy /^\d{min,max}/ without building a RegExp per call.
    let n = 0;
    while (n < max && n < v.length) {
      const c = v.charCodeAt(n);
      if (c < 48 || c > 57) break;
      n++;
    }
    if (n < min) return cannot(v, elem);
    const digits = v.slice(0, n);
    v = v.slice(n);
    return Number(digits);
  };
  const lookup = (names: string[], elem: string): number => {
    for (let i = 0; i < names.length; i++) {
      if (v.slice(0, names[i]!.length).toLowerCase() === names[i]!.toLowerCase()) {
        v = v.slice(names[i]!.length);
        return i;
      }
    }
    return cannot(v, elem);
  };
  for (let ti = 0; ti < toks.length; ti++) {
    const t = toks[ti]!;
    if ('lit' in t) {
      // Go lets runs of spaces in the layout and value differ in length.
      if (!v.startsWith(t.lit)) {
        const a = t.lit.replace(/^ +/, '');
        const b = v.replace(/^ +/, '');
        if (!(t.lit !== a && b.startsWith(a))) cannot(v, t.lit);
        v = b.slice(a.length);
      } else v = v.slice(t.lit.length);
      continue;
    }
    const elem = t.std === '.0' || t.std === '.9' ? `.${(t.std === '.0' ? '0' : '9').repeat(t.digits!)}` : t.std;
    switch (t.std) {
      case 'January': month = lookup(MONTHS, elem) + 1; break;
      case 'Jan': month = lookup(MONTHS.map((m) => m.slice(0, 3)), elem) + 1; break;
      case 'Monday': lookup(DAYS, elem); break;
      case 'Mon': lookup(DAYS.map((d) => d.slice(0, 3)), elem); break;
      case '2006': {
        const m = /^\d{4}/.exec(v);
        if (!m) cannot(v, elem);
        year = Number(m![0]);
        v = v.slice(4);
        break;
      }
      case '06': {
        const y = num(2, 2, elem);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case '01': month = num(2, 2, elem); if (month < 1 || month > 12) range('month'); break;
      case '1': month = num(1, 2, elem); if (month < 1 || month > 12) range('month'); break;
      case '02': day = num(2, 2, elem); break;
      case '2': day = num(1, 2, elem); break;
      case '_2':
        if (v.startsWith(' ')) v = v.slice(1);
        day = num(1, 2, elem);
        break;
      case '002': yday = num(3, 3, elem); break;
      case '__2':
        v = v.replace(/^ {1,2}/, '');
        yday = num(1, 3, elem);
        break;
      case '15': hour = num(1, 2, elem); if (hour > 23) range('hour'); break;
      case '03': hour = num(2, 2, elem); if (hour > 12) range('hour'); break;
      case '3': hour = num(1, 2, elem); if (hour > 12) range('hour'); break;
      case '04': minute = num(2, 2, elem); if (minute > 59) range('minute'); break;
      case '4': minute = num(1, 2, elem); if (minute > 59) range('minute'); break;
      case '05':
      case '5': {
        second = num(t.std === '05' ? 2 : 1, 2, elem);
        if (second > 59) range('second');
        // Go accepts a fractional second after the seconds even when the layout has none.
        const next = toks[ti + 1];
        const nextIsFrac = next !== undefined && 'std' in next && (next.std === '.0' || next.std === '.9');
        const m = /^[.,](\d+)/.exec(v);
        if (m && !nextIsFrac) {
          nanos = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
          v = v.slice(m[0].length);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const ap = v.slice(0, 2).toUpperCase();
        if (ap !== 'AM' && ap !== 'PM') cannot(v, elem);
        pm = ap === 'PM';
        v = v.slice(2);
        break;
      }
      case '.0':
      case '.9': {
        const m = t.std === '.0' ? fracRegex(t.digits).exec(v) : /^[.,](\d+)/.exec(v);
        if (!m) {
          if (t.std === '.9') break;
          cannot(v, elem);
        }
        nanos = Number(m![1]!.slice(0, 9).padEnd(9, '0'));
        v = v.slice(m![0].length);
        break;
      }
      case 'MST': {
        const m = /^([A-Z]{3,5}|[+-]\d+)/.exec(v);
        if (!m) cannot(v, elem);
        v = v.slice(m![0].length);
        // Go gives unknown abbreviations a zero offset when parsing without a location.
        offset = 0;
        break;
      }
      default: {
        if (t.std.startsWith('Z') && v.startsWith('Z')) {
          v = v.slice(1);
          offset = 0;
          break;
        }
        const shape = t.std.slice(1);
        const re = { '07': /^([+-])(\d\d)/, '0700': /^([+-])(\d\d)(\d\d)/, '07:00': /^([+-])(\d\d):(\d\d)/, '070000': /^([+-])(\d\d)(\d\d)(\d\d)/, '07:00:00': /^([+-])(\d\d):(\d\d):(\d\d)/ }[shape];
        const m = re?.exec(v);
        if (!m) return cannot(v, elem);
        const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
        offset = m[1] === '-' ? -secs : secs;
        v = v.slice(m[0].length);
      }
    }
  }
  if (v.length > 0) throw new ParseFail(`parsing time ${quote(value)}: extra text: ${quote(v)}`);
  if (pm !== undefined) {
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  if (yday >= 0) {
    const d = new Date(Date.UTC(year, 0, yday));
    if (d.getUTCFullYear() !== year) range('day-of-year');
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  if (day < 1 || day > daysIn(year, month)) range('day');
  const secs = utcSeconds(year, month, day, hour, minute, second) - (offset ?? 0);
  return BigInt(secs) * NS_PER_S + BigInt(nanos);
}

// ---- durations ----

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
};

/** Go's time.ParseDuration, in nanoseconds. */
export function parseDuration(s: string): bigint {
  const bad = (): never => {
    throw new ParseFail(`time: invalid duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') bad();
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
      if (/^[\d.]+$/.test(rest)) throw new ParseFail(`time: missing unit in duration ${JSON.stringify(s)}`);
      return bad();
    }
    const unit = UNITS[m[3]!];
    if (unit === undefined) throw new ParseFail(`time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(s)}`);
    const whole = BigInt(m[1] || '0') * unit;
    const frac = m[2] ?? '';
    const fracNs = frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += whole + fracNs;
    if (total > INT64_MAX) throw new ParseFail(`time: invalid duration ${JSON.stringify(s)}`);
    rest = rest.slice(m[0].length);
  }
  return neg ? -total : total;
}

function wrap<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseFail) builtinError(name, e.message);
    throw e;
  }
}

/** Go's AddDate: add years, months and days to the wall clock, then normalise. */
function addDate(name: string, ns: bigint, years: number, months: number, days: number): bigint {
  const c = civil(name, ns, 'UTC');
  const secs = utcSeconds(c.year + years, c.month + months, c.day + days, c.hour, c.minute, c.second);
  if (!Number.isFinite(secs)) builtinError(name, 'time outside of valid range');
  return checkNs(name, BigInt(secs) * NS_PER_S + BigInt(c.nanos));
}

function diff(name: string, a: Value, b: Value): number[] {
  const x = instant(name, a, 2);
  const y = instant(name, b, 2);
  let t1 = x.ns;
  let t2 = y.ns;
  // Both are read in the first operand's zone; the earlier instant comes first, as in OPA.
  if (t1 > t2) [t1, t2] = [t2, t1];
  const c1 = civil(name, t1, x.tz);
  const c2 = civil(name, t2, x.tz);
  let year = c2.year - c1.year;
  let month = c2.month - c1.month;
  let day = c2.day - c1.day;
  let hour = c2.hour - c1.hour;
  let min = c2.minute - c1.minute;
  let sec = c2.second - c1.second;
  if (sec < 0) {
    sec += 60;
    min--;
  }
  if (min < 0) {
    min += 60;
    hour--;
  }
  if (hour < 0) {
    hour += 24;
    day--;
  }
  if (day < 0) {
    day += daysIn(c1.year, c1.month);
    month--;
  }
  if (month < 0) {
    month += 12;
    year--;
  }
  return [year, month, day, hour, min, sec];
}

/** Time builtins. */
export const DEFS: BuiltinDef[] = [
  { name: 'time.now_ns', arity: 0, nondeterministic: true, fn: (_args, ctx: BuiltinContext) => fromBig(ctx.nowNs) },
  {
    name: 'time.parse_ns',
    arity: 2,
    fn: (args) => fromBig(wrap('time.parse_ns', () => checkNs('time.parse_ns', parseLayout(str('time.parse_ns', args, 1), str('time.parse_ns', args, 2))))),
  },
  {
    name: 'time.parse_rfc3339_ns',
    arity: 1,
    fn: (args) => {
      const value = str('time.parse_rfc3339_ns', args, 1);
      return fastRFC3339Ns(value) ?? fromBig(wrap('time.parse_rfc3339_ns', () => checkNs('time.parse_rfc3339_ns', parseLayout(NAMED_LAYOUTS.RFC3339!, value))));
    },
  },
  {
    name: 'time.parse_duration_ns',
    arity: 1,
    fn: (args) => fromBig(wrap('time.parse_duration_ns', () => parseDuration(str('time.parse_duration_ns', args, 1)))),
  },
  {
    name: 'time.date',
    arity: 1,
    fn: ([v]) => {
      const { ns, tz } = instant('time.date', v!, 2);
      const c = civil('time.date', ns, tz);
      return [c.year, c.month, c.day];
    },
  },
  {
    name: 'time.clock',
    arity: 1,
    fn: ([v]) => {
      const { ns, tz } = instant('time.clock', v!, 2);
      const c = civil('time.clock', ns, tz);
      return [c.hour, c.minute, c.second];
    },
  },
  {
    name: 'time.weekday',
    arity: 1,
    fn: ([v]) => {
      const { ns, tz } = instant('time.weekday', v!, 2);
      return DAYS[civil('time.weekday', ns, tz).weekday]!;
    },
  },
  {
    name: 'time.add_date',
    arity: 4,
    fn: (args) => {
      const n = 'time.add_date';
      const ns = nsOf(n, args[0]!, 1);
      return fromBig(addDate(n, ns, smallInt(n, args, 2), smallInt(n, args, 3), smallInt(n, args, 4)));
    },
  },
  { name: 'time.diff', arity: 2, fn: ([a, b]) => diff('time.diff', a!, b!) },
  {
    name: 'time.format',
    arity: 1,
    fn: ([v]) => {
      const { ns, tz, layout } = instant('time.format', v!, 3);
      return formatLayout(civil('time.format', ns, tz), layout ?? NAMED_LAYOUTS.RFC3339Nano!);
    },
  },
];

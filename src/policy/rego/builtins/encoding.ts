// Encoding builtins: JSON, base64/base64url, URL query, hex and YAML.
//
// JSON is parsed by hand because JSON.parse rounds integers beyond 2^53, while OPA keeps them
// exact; the error texts imitate Go's encoding/json. Base64 and hex validate strictly like Go
// (Node's Buffer silently skips bad input). YAML uses the `yaml` package (already a dependency),
// with errors reworded to go-yaml's "yaml: line N: ..." shape that policies and cases match on.
import YAML from 'yaml';
import { BuiltinError, type BuiltinDef } from './types.js';
import { RObject, RSet, fromJS, toJSONText, toJS, typeName, type Value } from '../value.js';
import { builtinError, fromBig, normNum, obj, str, typeError, typeErrorLabel } from './operands.js';

class JSONSyntax extends Error {}

/** Parse JSON text into a Rego value, integers exact; throws with Go's wording on bad input. */
export function parseJSON(text: string): Value {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (ctx: string): never => {
    if (i >= text.length) throw new JSONSyntax('unexpected end of JSON input');
    throw new JSONSyntax(`invalid character ${goChar(text[i]!)} ${ctx}`);
  };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const pairs: [Value, Value][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return RObject.from(pairs);
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('looking for beginning of object key string');
        const k = string();
        ws();
        if (text[i] !== ':') fail('after object key');
        i++;
        pairs.push([k, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return RObject.from(pairs);
        }
        fail('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      const out: Value[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail('after array element');
      }
    }
    if (c === '"') return string();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0] !== '-') {
      i += m[0].length;
      return m[2] || m[3] ? normNum(Number(m[0])) : fromBig(BigInt(m[0]));
    }
    return fail('looking for beginning of value');
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('in string literal');
      i++;
    }
    if (i >= text.length) fail('');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('in string escape code');
    }
  };
  const v = value();
  ws();
  if (i < text.length) fail('after top-level value');
  return v;
}

function goChar(c: string): string {
  return c === "'" ? "'\\''" : `'${c}'`;
}

function indentJSON(v: Value, prefix: string, indent: string, level: number): string {
  const nl = (l: number): string => `\n${prefix}${indent.repeat(l)}`;
  if (Array.isArray(v) || v instanceof RSet) {
    const xs = Array.isArray(v) ? v : v.sorted();
    if (xs.length === 0) return '[]';
    return `[${xs.map((x) => nl(level + 1) + indentJSON(x, prefix, indent, level + 1)).join(',')}${nl(level)}]`;
  }
  if (v instanceof RObject) {
    if (v.size === 0) return '{}';
    const body = v
      .sorted()
      .map(([k, x]) => `${nl(level + 1)}${JSON.stringify(typeof k === 'string' ? k : toJSONText(k))}: ${indentJSON(x, prefix, indent, level + 1)}`);
    return `{${body.join(',')}${nl(level)}}`;
  }
  return toJSONText(v);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

// Go's "illegal base64 data at input byte N": the offset of the first offending character.
function b64Offset(s: string, alphabet: RegExp): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=') return s.length % 4 === 0 && i >= s.length - 2 ? Math.max(0, s.length - 4) : i;
    if (!alphabet.test(s[i]!)) return i;
  }
  return s.length - (s.length % 4);
}

function b64Decode(name: string, s: string, url: boolean): string {
  const clean = s.replace(/[\r\n]/g, '');
  if (!(url ? B64URL : B64).test(clean)) builtinError(name, `illegal base64 data at input byte ${b64Offset(clean, url ? /[A-Za-z0-9_-]/ : /[A-Za-z0-9+/]/)}`);
  return Buffer.from(clean, url ? 'base64url' : 'base64').toString('utf8');
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's url.QueryUnescape; throws Go's message on a bad escape. */
export function queryUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new Error(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function yamlError(e: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]]; code?: string }): string {
  const line = e.linePos?.[0]?.line ?? 1;
  const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const flow = /Flow (sequence|map).*end with a ([\]}])/.exec(first);
  if (flow) return `yaml: line ${line}: did not find expected ',' or '${flow[2]}'`;
  return `yaml: line ${line}: ${first}`;
}

// go-yaml v2 (under OPA's sigs.k8s.io/yaml) reads YAML 1.1 ("yes" is true, 017 is octal) but
// leaves timestamps as strings when decoding into untyped values.
const YAML_PARSE = {
  version: '1.1' as const,
  intAsBigInt: true,
  uniqueKeys: false,
  customTags: (tags: YAML.Tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
};

/** Parse YAML text into a Rego value; throws a go-yaml style message. */
export function parseYAML(text: string): Value {
  const doc = YAML.parseDocument(text, YAML_PARSE);
  if (doc.errors.length > 0) throw new Error(yamlError(doc.errors[0] as never));
  return fromJS(doc.toJS({ maxAliasCount: 100 }));
}

/** Encoding builtins. */
export const DEFS: BuiltinDef[] = [
  { name: 'json.marshal', arity: 1, fn: ([v]) => toJSONText(v!) },
  {
    name: 'json.marshal_with_options',
    arity: 2,
    fn: (args) => {
      const n = 'json.marshal_with_options';
      const opts = obj(n, args, 2);
      let pretty: boolean | undefined;
      let prefix: string | undefined;
      let indent: string | undefined;
      for (const [k, v] of opts.sorted()) {
        if (k === 'pretty') pretty = typeof v === 'boolean' ? v : typeErrorLabel(n, 2, 'object with "pretty" as a boolean', typeName(v));
        else if (k === 'prefix') prefix = typeof v === 'string' ? v : typeErrorLabel(n, 2, 'object with "prefix" as a string', typeName(v));
        else if (k === 'indent') indent = typeof v === 'string' ? v : typeErrorLabel(n, 2, 'object with "indent" as a string', typeName(v));
        else throw typeErrorUnknownKey(n, k);
      }
      // Prefix or indent alone imply pretty printing; an explicit pretty: false wins.
      const isPretty = pretty ?? (prefix !== undefined || indent !== undefined);
      if (!isPretty) return toJSONText(args[0]!);
      const p = prefix ?? '';
      return p + indentJSON(args[0]!, p, indent ?? '\t', 0);
    },
  },
  {
    name: 'json.unmarshal',
    arity: 1,
    fn: (args) => {
      try {
        return parseJSON(str('json.unmarshal', args, 1));
      } catch (e) {
        if (e instanceof JSONSyntax) builtinError('json.unmarshal', e.message);
        throw e;
      }
    },
  },
  {
    name: 'json.is_valid',
    arity: 1,
    fn: ([s]) => {
      if (typeof s !== 'string') return false;
      try {
        parseJSON(s);
        return true;
      } catch {
        return false;
      }
    },
  },
  { name: 'base64.encode', arity: 1, fn: (args) => Buffer.from(str('base64.encode', args, 1), 'utf8').toString('base64') },
  { name: 'base64.decode', arity: 1, fn: (args) => b64Decode('base64.decode', str('base64.decode', args, 1), false) },
  { name: 'base64.is_valid', arity: 1, fn: ([s]) => typeof s === 'string' && B64.test(s.replace(/[\r\n]/g, '')) },
  {
    name: 'base64url.encode',
    arity: 1,
    fn: (args) => {
      const raw = Buffer.from(str('base64url.encode', args, 1), 'utf8').toString('base64url');
      return raw + '='.repeat((4 - (raw.length % 4)) % 4);
    },
  },
  { name: 'base64url.encode_no_pad', arity: 1, fn: (args) => Buffer.from(str('base64url.encode_no_pad', args, 1), 'utf8').toString('base64url') },
  {
    name: 'base64url.decode',
    arity: 1,
    fn: (args) => {
      const s = str('base64url.decode', args, 1);
      // OPA accepts both padded and unpadded input.
      const padded = s.length % 4 === 0 ? s : s + '='.repeat(4 - (s.length % 4));
      return b64Decode('base64url.decode', padded, true);
    },
  },
  { name: 'urlquery.encode', arity: 1, fn: (args) => queryEscape(str('urlquery.encode', args, 1)) },
  {
    name: 'urlquery.decode',
    arity: 1,
    fn: (args) => {
      try {
        return queryUnescape(str('urlquery.decode', args, 1));
      } catch (e) {
        return builtinError('urlquery.decode', (e as Error).message);
      }
    },
  },
  {
    name: 'urlquery.encode_object',
    arity: 1,
    fn: (args) => {
      const n = 'urlquery.encode_object';
      const o = obj(n, args, 1);
      const parts: string[] = [];
      for (const [k, v] of o.sorted()) {
        if (typeof k !== 'string') typeErrorLabel(n, 1, 'object with string keys', `object with ${typeName(k)} keys`);
        const vals = typeof v === 'string' ? [v] : Array.isArray(v) || v instanceof RSet ? (Array.isArray(v) ? v : v.sorted()) : typeError(n, 1, 'object of strings, arrays of strings or sets of strings', v);
        for (const x of vals) {
          if (typeof x !== 'string') typeErrorLabel(n, 1, 'object of strings, arrays of strings or sets of strings', `object containing ${typeName(x)}`);
          parts.push(`${queryEscape(k)}=${queryEscape(x)}`);
        }
      }
      return parts.join('&');
    },
  },
  {
    name: 'urlquery.decode_object',
    arity: 1,
    fn: (args) => {
      const s = str('urlquery.decode_object', args, 1);
      const out = new Map<string, string[]>();
      for (const part of s.split(/&/)) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        const rawK = eq < 0 ? part : part.slice(0, eq);
        const rawV = eq < 0 ? '' : part.slice(eq + 1);
        try {
          const k = queryUnescape(rawK);
          const v = queryUnescape(rawV);
          out.set(k, [...(out.get(k) ?? []), v]);
        } catch (e) {
          builtinError('urlquery.decode_object', (e as Error).message);
        }
      }
      return RObject.from([...out].map(([k, v]) => [k, v] as [Value, Value]));
    },
  },
  { name: 'hex.encode', arity: 1, fn: (args) => Buffer.from(str('hex.encode', args, 1), 'utf8').toString('hex') },
  {
    name: 'hex.decode',
    arity: 1,
    fn: (args) => {
      const s = str('hex.decode', args, 1);
      const bad = /[^0-9a-fA-F]/.exec(s);
      if (bad) {
        const cp = bad[0].codePointAt(0)!;
        builtinError('hex.decode', `encoding/hex: invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${goChar(bad[0])}`);
      }
      if (s.length % 2 !== 0) builtinError('hex.decode', 'encoding/hex: odd length hex string');
      return Buffer.from(s, 'hex').toString('utf8');
    },
  },
  {
    name: 'yaml.marshal',
    arity: 1,
    // go-yaml (through ghodss/yaml) writes sequences flush with their parent key and sorts keys.
    fn: ([v]) => YAML.stringify(toJS(v!), { version: '1.1', indentSeq: false, sortMapEntries: true, lineWidth: 0 }),
  },
  {
    name: 'yaml.unmarshal',
    arity: 1,
    fn: (args) => {
      try {
        return parseYAML(str('yaml.unmarshal', args, 1));
      } catch (e) {
        return builtinError('yaml.unmarshal', (e as Error).message);
      }
    },
  },
  {
    name: 'yaml.is_valid',
    arity: 1,
    fn: ([s]) => {
      if (typeof s !== 'string') return false;
      try {
        parseYAML(s);
        return true;
      } catch {
        return false;
      }
    },
  },
];

function typeErrorUnknownKey(name: string, key: Value): BuiltinError {
  return new BuiltinError('eval_type_error', `${name}: operand 2 object contained unknown key ${toJSONText(key)}`);
}

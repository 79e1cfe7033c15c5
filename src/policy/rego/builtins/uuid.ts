// uuid.rfc4122 and uuid.parse. uuid.rfc4122 is random (v4) but must return the same UUID for
// the same key within one query, as OPA memoises it; ctx.cache holds the per-query answers.
// uuid.parse reports the fields google/uuid exposes (time, clock sequence, node, domain/id).
import { randomUUID } from 'node:crypto';
import type { BuiltinDef } from './types.js';
import { RObject, type Value } from '../value.js';
import { fromBig, str } from './operands.js';

// 100-ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch.
const GREGORIAN_OFFSET = 122192928000000000n;

function bytesOf(s: string): number[] | undefined {
  let hex: string;
  if (s.length === 36) hex = s;
  else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) hex = s.slice(1, -1);
  else if (s.length === 45 && s.toLowerCase().startsWith('urn:uuid:')) hex = s.slice(9);
  else if (s.length === 32) return /^[0-9a-fA-F]{32}$/.test(s) ? (s.match(/../g) ?? []).map((h) => parseInt(h, 16)) : undefined;
  else return undefined;
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(hex)) return undefined;
  return (hex.replace(/-/g, '').match(/../g) ?? []).map((h) => parseInt(h, 16));
}

function variant(b: number): string {
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  if ((b & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

/** The fields of a UUID as OPA's uuid.parse reports them, or undefined when it is not one. */
export function parseUUID(s: string): RObject | undefined {
  const b = bytesOf(s);
  if (!b) return undefined;
  const version = b[6]! >> 4;
  const fields: [Value, Value][] = [
    ['variant', variant(b[8]!)],
    ['version', version],
  ];
  if (version === 1 || version === 2) {
    const u32 = (i: number): bigint => BigInt(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
    const u16 = (i: number): bigint => BigInt((b[i]! << 8) | b[i + 1]!);
    const t = u32(0) | (u16(4) << 32n) | ((u16(6) & 0xfffn) << 48n);
    fields.push(['time', fromBig((t - GREGORIAN_OFFSET) * 100n)]);
    fields.push(['clocksequence', Number(u16(8) & 0x3fffn)]);
    fields.push(['nodeid', b.slice(10).map((x) => x.toString(16).padStart(2, '0')).join('-')]);
    fields.push(['macvariables', `${b[10]! & 0x02 ? 'local' : 'global'}:${b[10]! & 0x01 ? 'multicast' : 'unicast'}`]);
    if (version === 2) {
      const d = b[9]!;
      fields.push(['domain', d === 0 ? 'Person' : d === 1 ? 'Group' : d === 2 ? 'Org' : `Domain${d}`]);
      fields.push(['id', Number(u32(0))]);
    }
  }
  return RObject.from(fields);
}

/** UUID builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'uuid.rfc4122',
    arity: 1,
    nondeterministic: true,
    fn: (args, ctx) => {
      const key = `uuid.rfc4122\u0000${str('uuid.rfc4122', args, 1)}`;
      let u = ctx.cache.get(key) as string | undefined;
      if (u === undefined) {
        u = randomUUID();
        ctx.cache.set(key, u);
      }
      return u;
    },
  },
  { name: 'uuid.parse', arity: 1, fn: (args) => parseUUID(str('uuid.parse', args, 1)) },
];

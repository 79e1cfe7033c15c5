// CIDR builtins. Hand-written: Node's net.BlockList could test containment, but not CIDR
// intersection, validation with Go's rules (no leading zeros in IPv4 octets) or Go's handling
// of IPv4-mapped IPv6 addresses, which OPA's results follow.
import type { BuiltinDef } from './types.js';
import { builtinError, str } from './operands.js';

/** An address as a 128-bit integer plus its family (4 = IPv4 as 32 bits). */
interface Addr {
  family: 4 | 6;
  value: bigint;
}

/** A dotted IPv4 address as an unsigned 32-bit number, or -1 (Go's rules: no leading zeros). */
function v4Number(s: string): number {
  let v = 0;
  let octets = 0;
  let i = 0;
  while (octets < 4) {
    const start = i;
    let o = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      o = o * 10 + (c - 48);
      i++;
    }
    const n = i - start;
    if (n === 0 || n > 3 || o > 255 || (n > 1 && s.charCodeAt(start) === 48)) return -1;
    v = v * 256 + o;
    octets++;
    if (octets < 4) {
      if (s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === s.length ? v : -1;
}

function parseV4(s: string): bigint | undefined {
  const v = v4Number(s);
  return v < 0 ? undefined : BigInt(v);
}

/** Parse an IPv4 or IPv6 address the way Go's net.ParseIP accepts it. */
export function parseIP(s: string): Addr | undefined {
  if (!s.includes(':')) {
    const v = parseV4(s);
    return v === undefined ? undefined : { family: 4, value: v };
  }
  let text = s;
  let tail: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseV4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): string[] | undefined => {
    if (h === '') return [];
    const gs = h.split(':');
    return gs.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? gs : undefined;
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let v = 0n;
  for (const g of all) v = (v << 16n) | BigInt(parseInt(g, 16));
  if (tail !== undefined) v = (v & ~0xffffffffn) | tail;
  return { family: 6, value: v };
}

const V4_MAPPED = 0xffffn << 32n;

// Go's To4: a plain IPv4 address or an IPv4-mapped IPv6 one.
function to4(a: Addr): bigint | undefined {
  if (a.family === 4) return a.value;
  return a.value >> 32n === 0xffffn ? a.value & 0xffffffffn : undefined;
}

function to16(a: Addr): bigint {
  return a.family === 6 ? a.value : V4_MAPPED | a.value;
}

interface Net {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

/** Parse a CIDR like Go's net.ParseCIDR (the network, with host bits cleared). */
export function parseCIDR(s: string): Net | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9]\d*)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  const width = ip.family === 4 ? 32 : 128;
  if (bits > width) return undefined;
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  return { family: ip.family, base: ip.value & mask, bits };
}

function contains(n: Net, a: Addr): boolean {
  const width = n.family === 4 ? 32 : 128;
  const v = n.family === 4 ? to4(a) : to16(a);
  if (v === undefined) return false;
  const shift = BigInt(width - n.bits);
  return v >> shift === n.base >> shift;
}

// Policies test addresses against the same few networks on every evaluation.
const cidrCache = new Map<string, Net | null>();
function cachedCIDR(s: string): Net | undefined {
  let n = cidrCache.get(s);
  if (n === undefined) {
    n = parseCIDR(s) ?? null;
    if (cidrCache.size >= 1024) cidrCache.clear();
    cidrCache.set(s, n);
  }
  return n ?? undefined;
}

function mustCIDR(name: string, s: string): Net {
  const n = cachedCIDR(s);
  if (!n) builtinError(name, `invalid CIDR address: ${s}`);
  return n;
}

function netLast(n: Net): bigint {
  const width = n.family === 4 ? 32 : 128;
  return n.base | ((1n << BigInt(width - n.bits)) - 1n);
}

/** Network builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'net.cidr_contains',
    arity: 2,
    fn: (args) => {
      const n = 'net.cidr_contains';
      const net = mustCIDR(n, str(n, args, 1));
      const x = str(n, args, 2);
      if (net.family === 4) {
        // The common case, an IPv4 address in an IPv4 network, in plain numbers.
        const v = v4Number(x);
        if (v >= 0) return net.bits === 0 || Math.floor(v / 2 ** (32 - net.bits)) === Math.floor(Number(net.base) / 2 ** (32 - net.bits));
      }
      const ip = parseIP(x);
      if (ip) return contains(net, ip);
      const sub = mustCIDR(n, x);
      // A subnet is contained when its first and last addresses are, and it is no wider.
      return sub.bits >= net.bits && contains(net, { family: sub.family, value: sub.base }) && contains(net, { family: sub.family, value: netLast(sub) });
    },
  },
  {
    name: 'net.cidr_intersects',
    arity: 2,
    fn: (args) => {
      const n = 'net.cidr_intersects';
      const a = mustCIDR(n, str(n, args, 1));
      const b = mustCIDR(n, str(n, args, 2));
      return contains(a, { family: b.family, value: b.base }) || contains(b, { family: a.family, value: a.base });
    },
  },
  { name: 'net.cidr_is_valid', arity: 1, fn: ([s]) => typeof s === 'string' && parseCIDR(s) !== undefined },
];

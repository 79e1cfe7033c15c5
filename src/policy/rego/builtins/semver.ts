// semver builtins, hand-written: SemVer 2.0 precedence is short, and the npm `semver` package
// accepts a looser grammar (leading "v", "=" and whitespace) than OPA's strict parser.
import type { BuiltinDef } from './types.js';
import { builtinError, str } from './operands.js';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Version {
  core: bigint[];
  pre: string[];
}

function parse(s: string): Version | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return { core: [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)], pre: m[4] ? m[4].split('.') : [] };
}

/** SemVer 2.0 precedence: -1, 0 or 1 (build metadata ignored). */
export function compareSemver(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! < b.core[i]! ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i]!;
    const y = b.pre[i]!;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1;
}

/** SemVer builtins. */
export const DEFS: BuiltinDef[] = [
  { name: 'semver.is_valid', arity: 1, fn: ([v]) => typeof v === 'string' && parse(v) !== undefined },
  {
    name: 'semver.compare',
    arity: 2,
    fn: (args) => {
      const n = 'semver.compare';
      const [a, b] = [1, 2].map((pos) => {
        const s = str(n, args, pos);
        const v = parse(s);
        if (!v) builtinError(n, `operand ${pos}: string ${JSON.stringify(s)} is not a valid SemVer`);
        return v;
      }) as [Version, Version];
      return compareSemver(a, b);
    },
  },
];

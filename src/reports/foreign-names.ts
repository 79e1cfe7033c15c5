// Reports shown to a tenant's own readers must not name other tenants, even where the finding
// is about another tenant: "identifiers of globex-3pl were redacted from acme-dist's data"
// tells acme-dist's reader that globex-3pl is on the platform and which customer code is
// theirs; an access review listing "stark-logistics read" as a refused reader does the same.
// Operators (admin) see the names; everyone else gets "another tenant" in their place. The
// walk covers every string in the report, so a new policy message or field is covered too.
import type { Registry } from '../config/index.js';

export const ANOTHER_TENANT = 'another tenant';

/** `value` with every other tenant's id, name and identifiers replaced, for readers of `tenantId`. */
export function withoutForeignNames<T>(value: T, registry: Registry, tenantId: string): T {
  const own = new Set<string>();
  const foreign = new Set<string>();
  for (const t of registry.tenants()) for (const n of [t.id, t.name, ...t.identifiers]) if (n) (t.id === tenantId ? own : foreign).add(n);
  // One pass, longest name first at each position: the reader's own names are matched whole
  // and kept even where another tenant's shorter identifier is inside them.
  if (foreign.size === 0) return value;
  const all = [...own, ...foreign].sort((a, b) => b.length - a.length);
  // "tenant globex-3pl" reads "another tenant", not "tenant another tenant".
  const pattern = new RegExp(`(tenant )?(${all.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'g');
  const replace = (s: string): string => s.replace(pattern, (m, _prefix: string | undefined, name: string) => (own.has(name) ? m : ANOTHER_TENANT));
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return replace(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [replace(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

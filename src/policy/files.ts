// Finding policy files on disk.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every .rego file at `path` (a file, or a directory searched recursively), sorted. */
export function regoFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    if (statSync(p).isDirectory()) out.push(...regoFiles(p));
    else if (name.endsWith('.rego')) out.push(p);
  }
  return out;
}

// Where the package's own files are at run time. Compiled code runs from dist/src, while
// SQL migrations, schemas and fixtures stay in the source tree, so resolve from the root.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The package root (the folder holding package.json). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Resolve a path inside the package root. */
export function fromRoot(...parts: string[]): string {
  return join(ROOT, ...parts);
}

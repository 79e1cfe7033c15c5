// tenantscope's own version, read once from package.json so evidence and `--version` name the
// release that produced them without a second place to bump.
import { readFileSync } from 'node:fs';
import { fromRoot } from './paths.js';

/** The version in package.json. */
export const VERSION: string = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;

// chdb lists a native package per platform as optional dependencies, but this workplace's
// registry serves only the linux-x64 one, so `npm install` leaves the others out of
// package-lock.json and `npm ci` then refuses the lock as out of sync. This adds lock entries
// for the missing platform packages (marked optional, with their os/cpu) so `npm ci` skips
// them on this platform. Run it after every `npm install` that rewrites the lock.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const chdb = lock.packages['node_modules/chdb'];
const PLATFORM = /^@chdb\/lib-(darwin|linux)-(arm64|x64)(-gnu)?$/;
let added = 0;
for (const [name, version] of Object.entries(chdb?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  const m = PLATFORM.exec(name);
  if (lock.packages[key] || !m) continue;
  const entry = { version, cpu: [m[2]], license: 'Apache-2.0', optional: true, os: [m[1]] };
  if (m[3]) entry.libc = ['glibc'];
  lock.packages[key] = entry;
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} optional platform entr${added === 1 ? 'y' : 'ies'}`);

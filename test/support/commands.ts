// Whether a command a test drives (a Debian package's binary) is installed: tests that need
// one skip with a message naming the package when it is not.
import { execFileSync } from 'node:child_process';

/** Whether `cmd` is found on PATH. */
export function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Runs the real `tenantscope` command (compiled) as a child process, for tests of the CLI and
// of a server in its own process (own chDB data directory, own logs).
import { spawn, type ChildProcess } from 'node:child_process';
import { fromRoot } from '../../src/paths.js';

export const CLI = fromRoot('dist', 'src', 'cli.js');

/** Start `tenantscope <args>` with the given extra environment. */
export function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: fromRoot(),
    env: { ...process.env, TENANTSCOPE_LOG_LEVEL: 'info', TENANTSCOPE_TEST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Run a command to its end and collect its output. */
export function cliResult(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runCli(args, env);
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': a process can exit before its last output has been read from the pipe.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Serving {
  child: ChildProcess;
  otlpHttpUrl: string;
  otlpGrpcUrl: string;
  apiUrl: string;
  /** Every line the server printed so far (stdout JSON logs and stderr). */
  log: string[];
}

/** Start `tenantscope serve` and wait for its "tenantscope serving" log line, reading the URLs from it. */
export function serveCli(args: string[], env: Record<string, string> = {}): Promise<Serving> {
  const child = runCli(['serve', ...args], env);
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${log.join('\n')}`));
    }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        log.push(line);
        try {
          const j = JSON.parse(line) as { msg?: string; otlpHttpUrl?: string; otlpGrpcUrl?: string; apiUrl?: string };
          if (j.msg === 'tenantscope serving') {
            clearTimeout(timer);
            resolve({ child, otlpHttpUrl: j.otlpHttpUrl!, otlpGrpcUrl: j.otlpGrpcUrl!, apiUrl: j.apiUrl!, log });
          }
        } catch {
          /* not a JSON log line */
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${log.join('\n')}`));
    });
  });
}

/** SIGTERM a server started by serveCli and resolve with its exit code. */
export function stopCli(s: Serving): Promise<number | null> {
  return new Promise((resolve) => {
    // Already gone (stopped by the test itself): its 'exit' will not come again.
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve(s.child.exitCode);
    s.child.removeAllListeners('exit');
    s.child.on('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

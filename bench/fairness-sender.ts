// One tenant's sender for bench:fairness, in a process of its own, as another service would
// be: builds its requests, says "ready", starts on "go" (a line on stdin) and prints its
// results and the CPU seconds it used as one JSON line.
// Usage: node dist/bench/fairness-sender.js <otlp-url> <token> <req/s> <spans> <seconds> [phase 0..1]
import { createInterface } from 'node:readline';
import { runStreams } from '../test/support/fairness-load.js';

const [url, token, rate, spans, seconds, phase] = process.argv.slice(2);
const go = new Promise<void>((resolve) => createInterface({ input: process.stdin }).on('line', (l) => l.trim() === 'go' && resolve()));
const run = runStreams(url!, [{ token: token!, rate: Number(rate), spansPerRequest: Number(spans), ...(phase === undefined ? {} : { phase: Number(phase) }) }], Number(seconds) * 1000, {
  ready: async () => {
    process.stdout.write('ready\n');
    await go;
  },
});
const [result] = await run;
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ result, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
process.exit(0);

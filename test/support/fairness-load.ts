// Open-loop OTLP/HTTP load for the fairness test and benchmark: each stream (one tenant's
// token) sends requests of a fixed number of spans at a fixed rate, whether or not earlier
// answers came back, as independent services would; every request is new (its own span ids),
// so none is taken for a retry. Every body is made before the clock starts, so the load
// generator's own work (it shares the machine) does not grow with the rate it sends at.
// Each stream starts at its own point of its period (a phase fixed by its token), as
// independent services do: streams that all fire at the same instants would share every
// insert the server makes, which no real set of tenants does, and a tenant whose admitted
// requests fall between those instants (one refused most of the time) would look costly
// only because it broke the lockstep.
// Answers are sorted into accepted (with latency), refused with 429 (with the Retry-After it
// carried) and anything else.
import { Agent, request } from 'node:http';

export interface Stream {
  token: string;
  /** Requests per second. */
  rate: number;
  spansPerRequest: number;
  /** Where in its period the stream starts, 0..1; by default fixed by the token (streamPhase). */
  phase?: number;
}

export interface StreamResult {
  token: string;
  sent: number;
  accepted: number;
  acceptedSpans: number;
  refused: number;
  /** Retry-After values of the 429 answers, in seconds. */
  retryAfter: number[];
  /** Any other outcome: other statuses, network errors, requests still open at the end. */
  failed: number;
  /** Milliseconds from send to answer, of accepted requests. */
  latencies: number[];
  /** Milliseconds from the first request of the run to the last answer (of every stream). */
  elapsedMs: number;
}

let seq = 0;

/** A stream's default phase: a fraction of its period drawn from its token (FNV-1a, then mixed), so runs repeat. */
export function streamPhase(token: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  // Similar tokens differ in a few low bits; the final mix spreads them over the whole period.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/** An OTLP/JSON trace request of `n` spans with ids no other request uses. */
export function uniqueTraceBody(n: number, service: string): string {
  const id = ++seq;
  const now = BigInt(Date.now()) * 1_000_000n;
  const trace = (id.toString(16) + process.pid.toString(16)).padStart(32, '0').slice(-32);
  const spans: string[] = [];
  for (let i = 0; i < n; i++) {
    const span = ((id * 10_000 + i + 1).toString(16)).padStart(16, '0').slice(-16);
    spans.push(
      `{"traceId":"${trace}","spanId":"${span}","name":"GET /orders","kind":2,"startTimeUnixNano":"${now}","endTimeUnixNano":"${now + 3_000_000n}",` +
        `"attributes":[{"key":"http.route","value":{"stringValue":"/orders"}}]}`,
    );
  }
  return `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"${service}"}}]},"scopeSpans":[{"spans":[${spans.join(',')}]}]}]}`;
}

/** Run the streams against `otlpHttpUrl` for `durationMs`; resolves when every answer is in (or timed out). */
export async function runStreams(otlpHttpUrl: string, streams: Stream[], durationMs: number, hooks: { ready?: () => Promise<void> } = {}): Promise<StreamResult[]> {
  const url = new URL('/v1/traces', otlpHttpUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const pending: Promise<void>[] = [];
  const results = streams.map((s) => ({ token: s.token, sent: 0, accepted: 0, acceptedSpans: 0, refused: 0, retryAfter: [], failed: 0, latencies: [], elapsedMs: 0 }) as StreamResult);
  const bodies = streams.map((s) => {
    const service = `svc-${s.token.replace(/^demo-ingest-/, '')}`;
    return Array.from({ length: Math.ceil((s.rate * durationMs) / 1000) }, () => uniqueTraceBody(s.spansPerRequest, service));
  });
  await hooks.ready?.();
  const started = performance.now();
  await Promise.all(
    streams.map(async (s, k) => {
      const r = results[k]!;
      const offset = ((s.phase ?? streamPhase(s.token)) * 1000) / s.rate;
      for (let i = 0; ; i++) {
        const due = started + offset + (i * 1000) / s.rate;
        if (due - started >= durationMs || i >= bodies[k]!.length) break;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        r.sent++;
        pending.push(send(url, agent, s, bodies[k]![i]!, r));
      }
    }),
  );
  await Promise.all(pending);
  const elapsedMs = performance.now() - started;
  agent.destroy();
  for (const r of results) r.elapsedMs = elapsedMs;
  return results;
}

function send(url: URL, agent: Agent, s: Stream, body: string, r: StreamResult): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, timeout: 30_000, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}`, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            r.accepted++;
            r.acceptedSpans += s.spansPerRequest;
            r.latencies.push(performance.now() - t0);
          } else if (res.statusCode === 429) {
            r.refused++;
            r.retryAfter.push(Number(res.headers['retry-after']));
          } else {
            r.failed++;
          }
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      r.failed++;
      resolve();
    });
    req.end(body);
  });
}

/** The q-quantile (0..1) of `xs` by the nearest-rank method. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

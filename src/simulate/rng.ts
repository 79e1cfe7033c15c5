// Seeded randomness for the workload simulator, so that a seed reproduces a run span for span,
// trace ids included. Math.random cannot be seeded and the SDK's RandomIdGenerator uses it;
// the seeded generators on npm (seedrandom, pure-rand) would add a runtime dependency for what
// is a few lines of a published algorithm (sfc32, seeded through cyrb128), and we also need
// independent streams per tenant and purpose, which is one more hash here.
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** cyrb128: four 32-bit words from a string; spreads similar seeds ("1|acme", "2|acme") apart. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A deterministic pseudo-random stream (sfc32). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A stream named by `parts` (e.g. seed, tenant, purpose): equal names, equal streams. */
  constructor(...parts: Array<string | number>) {
    [this.#a, this.#b, this.#c, this.#d] = cyrb128(parts.join('|'));
    // The first outputs of sfc32 still echo the seed; discard them.
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** The next 32 random bits as an unsigned integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Standard normal (Box-Muller; always two draws, so streams stay aligned). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * A Poisson count with mean `lambda`: Knuth's product method while it is cheap, a rounded
   * normal above 30, where the two no longer differ in any way a report could notice.
   */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.float();
    while (p > limit) {
      k++;
      p *= this.float();
    }
    return k;
  }

  /** `n` random bytes as lowercase hex, never all zeros (an invalid OTel id). */
  hex(bytes: number): string {
    for (;;) {
      let out = '';
      for (let i = 0; i < bytes; i += 4) out += this.uint32().toString(16).padStart(8, '0');
      out = out.slice(0, bytes * 2);
      if (/[^0]/.test(out)) return out;
    }
  }
}

/** Trace and span ids from a seeded stream, for BasicTracerProvider's `idGenerator`. */
export class SeededIdGenerator implements IdGenerator {
  readonly #rng: Rng;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  /** 16 random bytes as hex. */
  generateTraceId(): string {
    return this.#rng.hex(16);
  }

  /** 8 random bytes as hex. */
  generateSpanId(): string {
    return this.#rng.hex(8);
  }
}

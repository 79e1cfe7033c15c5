// Hostile input generators shared by the property tests and the memory-bound test.
import fc from 'fast-check';

/** The seed every hostile-input test uses, so runs are reproducible. */
export const SEED = 20261122;

/** A valid body with some bytes overwritten, some cut, or some inserted. */
export function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.tuple(fc.nat({ max: valid.length }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 8 })
    .map((edits) => {
      let b = Array.from(valid);
      for (const [at, byte, op] of edits) {
        if (op === 'set' && at < b.length) b[at] = byte;
        else if (op === 'cut') b = b.slice(0, at);
        else b.splice(at, 0, byte);
      }
      return Uint8Array.from(b);
    });
}

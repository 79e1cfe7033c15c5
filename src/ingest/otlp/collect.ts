// The sink that keeps what a decode delivers as grouped records (DecodedRequest): what tests,
// benchmarks and the simulator's checks read. Ingest itself never collects; it turns each item
// into rows as it arrives (src/ingest/assemble.ts).
import type { AnyDecoded, DecodeOutcome, DecodeSink, Resource, ResourceGroup } from './types.js';

/** Collects a request's items per resource group; empty envelopes are dropped (PROTOCOL.md §2.5 allows it). */
export class GroupCollector implements DecodeSink<unknown> {
  readonly groups: ResourceGroup<unknown>[] = [];
  private current: ResourceGroup<unknown> | undefined;

  group(resource: Resource): void {
    this.current = { resource, items: [] };
  }

  item(item: unknown): void {
    this.current!.items.push(item);
  }

  groupEnd(): void {
    if (this.current && this.current.items.length > 0) this.groups.push(this.current);
    this.current = undefined;
  }

  /** The collected request. */
  decoded(outcome: DecodeOutcome): AnyDecoded {
    return { signal: outcome.signal, groups: this.groups, invalid: outcome.invalid, limits: outcome.limits } as AnyDecoded;
  }
}

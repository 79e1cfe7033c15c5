// Decoded OTLP: what both decoders (protobuf and JSON) produce and every later stage reads.
// Items are grouped by resource because tenancy is decided per resource (`tenant.id`).
//
// Conventions shared by both decoders, so a row is identical whichever encoding carried it:
// - times are unsigned decimal strings of nanoseconds since the epoch ("0" when unset); a JS
//   number cannot hold them exactly, and ClickHouse parses the string into DateTime64(9);
// - trace/span ids are lowercase hex ("" when absent);
// - attribute values are flattened to strings: string as is, bool "true"/"false", int as a
//   decimal, double as JS `String(n)` ("NaN", "Infinity", "-Infinity" included), bytes as
//   standard base64, arrays and kvlists as compact JSON of their flattened values
//   (`["a","1"]`, `{"k":"v"}`; nested in the same way), an empty AnyValue as "";
// - a repeated attribute key keeps its last value.

export type Signal = 'traces' | 'metrics' | 'logs';

/** Flattened attributes (see the conventions above). */
export type Attributes = Record<string, string>;

export interface Resource {
  attributes: Attributes;
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface Scope {
  name: string;
  version: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface SpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Attributes;
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
}

export interface SpanRecord {
  scope: Scope;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  /** SpanKind number (0..5; unknown numbers kept). */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  /** Status code number (0 unset, 1 ok, 2 error). */
  statusCode: number;
  statusMessage: string;
}

export type LogBodyKind = 'empty' | 'string' | 'bool' | 'int' | 'double' | 'bytes' | 'array' | 'kvlist';

export interface LogRecord {
  scope: Scope;
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  /** Flattened like an attribute value. */
  body: string;
  bodyKind: LogBodyKind;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
  traceId: string;
  spanId: string;
  eventName: string;
}

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

export interface Exemplar {
  timeUnixNano: string;
  /** as_double, or as_int converted to a number. */
  value: number;
  traceId: string;
  spanId: string;
  filteredAttributes: Attributes;
}

/** One data point of any metric type, flattened with its metric's identity. */
export interface MetricPoint {
  scope: Scope;
  metricName: string;
  metricDescription: string;
  metricUnit: string;
  metricType: MetricType;
  /** AggregationTemporality number (0 for gauge and summary). */
  temporality: number;
  isMonotonic: boolean;
  attributes: Attributes;
  startTimeUnixNano: string;
  timeUnixNano: string;
  flags: number;
  /** gauge/sum: the value (as_int converted); other types: 0. */
  value: number;
  /** gauge/sum with as_int: the exact decimal; otherwise "". */
  intValue: string;
  /** histogram, exponential histogram, summary: counts as decimal strings; "0" otherwise. */
  count: string;
  /** histogram/exp-histogram sum (null when absent); summary sum; null for gauge/sum. */
  sum: number | null;
  min: number | null;
  max: number | null;
  /** histogram */
  bucketCounts: string[];
  explicitBounds: number[];
  /** exponential histogram */
  scale: number;
  zeroCount: string;
  zeroThreshold: number;
  positiveOffset: number;
  positiveBucketCounts: string[];
  negativeOffset: number;
  negativeBucketCounts: string[];
  /** summary */
  quantiles: number[];
  quantileValues: number[];
  exemplars: Exemplar[];
}

export interface ResourceGroup<T> {
  resource: Resource;
  items: T[];
}

/** An item the decoder dropped as permanently invalid (e.g. a span with a 3-byte trace id). */
export interface InvalidItem {
  /** Path in the request, e.g. `resourceSpans[0].scopeSpans[1].spans[4].traceId`. */
  path: string;
  reason: string;
}

/** Input limits a decode applies (limits.ts says how). */
export interface DecodeLimits {
  /** Deepest AnyValue nesting accepted; deeper refuses the request. */
  readonly maxDepth: number;
  /** Most attributes kept per attribute set; the rest are dropped and counted. */
  readonly maxAttributes: number;
  /** Longest string kept, in characters (code points); bytes values in bytes. */
  readonly maxStringLength: number;
}

/** What the limits dropped or cut in one request; none of it counts as rejected. */
export interface LimitReport {
  limits: DecodeLimits;
  /** Attributes dropped because their set was over `maxAttributes`. */
  overCount: number;
  /** Attributes dropped because their key was over `maxStringLength`. */
  longKeys: number;
  /** String and bytes values cut to `maxStringLength`. */
  truncated: number;
}

export interface DecodedRequest<T> {
  signal: Signal;
  groups: ResourceGroup<T>[];
  /** Items dropped during decoding; they count as rejected in the partial-success reply. */
  invalid: InvalidItem[];
  /** What the input limits dropped or cut; reported as a warning, not as rejected. */
  limits: LimitReport;
}

/**
 * Receives a request's items while it is decoded, so each item is turned into rows while it is
 * fresh and none outlives its request's decode: a resource group opens with its resource
 * complete (all of it read, limits applied), then its valid items arrive one by one, limits
 * applied, with their scope complete, then it closes. Invalid items never arrive. A decode that
 * fails part-way throws: what the sink gathered must then be dropped.
 */
export interface DecodeSink<T> {
  group(resource: Resource): void;
  item(item: T): void;
  groupEnd(): void;
}

/** What a decode into a sink reports besides the items. */
export interface DecodeOutcome {
  signal: Signal;
  /** Items dropped during decoding; they count as rejected in the partial-success reply. */
  invalid: InvalidItem[];
  /** What the input limits dropped or cut; reported as a warning, not as rejected. */
  limits: LimitReport;
}

export type DecodedTraces = DecodedRequest<SpanRecord>;
export type DecodedLogs = DecodedRequest<LogRecord>;
export type DecodedMetrics = DecodedRequest<MetricPoint>;
export type AnyDecoded = DecodedTraces | DecodedLogs | DecodedMetrics;

/** What the server answers: rejected item count and a message (both empty on full success). */
export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

// Sizes libuv's thread pool before anything uses it; imported first by the command.
// chDB runs every query on a pool thread and holds it until the query ends, and the
// write-ahead log's file writes use the same pool. With libuv's default of 4 threads, one long
// query (a tenant export, a report over months) and a few queued behind it leave ingest's log
// writes waiting: measured with bench:lifecycle, the other tenants' ingest p99 was 6.1-6.6 s
// during a 1M-span export with 4 threads, and 50 ms with 16 (at 300k spans). An operator's
// own UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
export {};

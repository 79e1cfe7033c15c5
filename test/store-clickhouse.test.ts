// The store specification (test/support/store-suite.ts) on RemoteStore against a real
// ClickHouse server, when one is named: TENANTSCOPE_TEST_CLICKHOUSE_URL, with optional
// TENANTSCOPE_TEST_CLICKHOUSE_USER / _PASSWORD, and _DATABASE as the name prefix of the
// fresh databases each run creates and drops (default tenantscope_test). Without a URL the
// file says it was skipped and runs no test, which the runner counts as neither passed nor
// failed.
import { freshRemoteStores, runStoreSpecification } from './support/store-suite.js';

const url = process.env.TENANTSCOPE_TEST_CLICKHOUSE_URL;

if (!url) {
  console.log('skipped: set TENANTSCOPE_TEST_CLICKHOUSE_URL to run against a real server');
} else {
  const fresh = freshRemoteStores(
    { url, username: process.env.TENANTSCOPE_TEST_CLICKHOUSE_USER, password: process.env.TENANTSCOPE_TEST_CLICKHOUSE_PASSWORD },
    process.env.TENANTSCOPE_TEST_CLICKHOUSE_DATABASE || undefined,
  );
  runStoreSpecification(`RemoteStore on the ClickHouse server at ${new URL(url).host}`, fresh);
}

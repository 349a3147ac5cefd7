// The GraphQL-over-HTTP audit of the `graphql-http` package (pinned by package-lock.json) against
// a running server: prints every result, and exits non-zero on any `warn` (a SHOULD the server
// misses) or `error` (a MUST). `notice`s are MAYs the server chooses not to do; they are printed.
//
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql

import { readFileSync } from 'node:fs';
import { auditServer } from 'graphql-http';

const PINNED_VERSION = '1.23.1';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

// The audit's verdicts change between releases: prove the one the lockfile pins is what runs.
const installed = JSON.parse(
  readFileSync(new URL('./node_modules/graphql-http/package.json', import.meta.url), 'utf8'),
).version;
if (installed !== PINNED_VERSION) {
  console.error(`graphql-http ${installed} is installed; the audit expects ${PINNED_VERSION} (run scripts/web)`);
  process.exit(2);
}

/** What a failed audit's response showed, for the log: status, content type, and body if unread. */
async function describe(response) {
  if (!response) return '(no response)';
  let body;
  try {
    body = await response.clone().text();
  } catch {
    body = '(body already read by the audit)';
  }
  const type = response.headers.get('content-type');
  return `HTTP ${response.status}, content-type ${type}, body ${body}`;
}

const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failures = [];
for (const result of results) {
  counts[result.status] += 1;
  if (result.status === 'ok') {
    console.log(`ok     ${result.id} ${result.name}`);
    continue;
  }
  const detail = `${result.reason}; ${await describe(result.response)}`;
  console.log(`${result.status.padEnd(6)} ${result.id} ${result.name}: ${detail}`);
  if (result.status === 'warn' || result.status === 'error') failures.push(result);
}
console.log(
  `graphql-http ${installed} audit of ${url}: ${counts.ok} ok, ${counts.notice} notice, ` +
    `${counts.warn} warn, ${counts.error} error`,
);
if (failures.length > 0) {
  console.error(`${failures.length} audits failed: ${failures.map((f) => f.id).join(', ')}`);
  process.exit(1);
}

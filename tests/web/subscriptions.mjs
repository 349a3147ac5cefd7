// The TypeScript client of graphql-transport-ws (graphql-ws) against the server: log in over
// HTTP, subscribe to blacklistChanged, cause a change, receive it, log out, and see the socket
// close with 4403. Prints one JSON line for the Rust test to check.
//
// Env: API_URL (http://host:port), API_USERNAME, API_PASSWORD (a user holding blacklist:read and
// blacklist:create). Node 20 needs NODE_OPTIONS=--experimental-websocket for a global WebSocket.

import { createClient } from 'graphql-ws';

const base = process.env.API_URL;
const STEP_MS = 10_000;

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function gql(query, variables, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

if (typeof WebSocket === 'undefined') {
  throw new Error('no global WebSocket: run with NODE_OPTIONS=--experimental-websocket');
}

const { login } = await gql(
  'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
  { u: process.env.API_USERNAME, p: process.env.API_PASSWORD },
);
const token = login.token;

let onClosed;
const closed = new Promise((resolve) => {
  onClosed = resolve;
});
const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: 0,
  on: { closed: (event) => onClosed({ code: event.code, at: performance.now() }) },
});

const events = [];
let onEvent;
const subscription = client.iterate({
  query: 'subscription { blacklistChanged { kind entry { ip } } }',
});
const reading = (async () => {
  try {
    for await (const result of subscription) {
      events.push(result);
      onEvent?.();
    }
  } catch {
    // The close that ends the test also ends the iteration.
  }
})();

// The protocol does not acknowledge a subscription: cause changes until one is seen (bounded).
let event;
for (let attempt = 0; attempt < 10 && !event; attempt += 1) {
  const seen = new Promise((resolve) => {
    onEvent = resolve;
  });
  await gql(
    'mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id } }',
    { ip: `203.0.113.${attempt + 9}` },
    token,
  );
  await within(1_000, seen, 'an event').catch(() => {});
  event = events[0];
}
if (!event) throw new Error('no blacklistChanged event arrived');
if (event.errors) throw new Error(`the subscription failed: ${JSON.stringify(event.errors)}`);

await gql('mutation { logout }', {}, token);
const loggedOut = performance.now();
const close = await within(STEP_MS, closed, 'the close after logout');
await within(STEP_MS, reading, 'the end of the subscription');
client.dispose();

console.log(
  JSON.stringify({
    event: { blacklistChanged: { ...event.data.blacklistChanged } },
    closeCode: close.code,
    closedAfterLogoutMs: close.at - loggedOut,
  }),
);

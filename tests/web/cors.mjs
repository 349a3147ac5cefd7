// CORS in a real browser: headless Chromium loads a page from one origin (a port on 127.0.0.1),
// whose script logs in to the API on another origin and asks `me` with each token header.
// Run once for each given page origin; prints one JSON line of what each page saw.
//
// Usage: node cors.mjs <GraphQL endpoint URL> <page port>… (env ADMIN_PASSWORD: the login's password)
//
// The API's CORS_ALLOWED_ORIGINS decides which pages succeed; the caller asserts on the output.
// Every request to a host other than 127.0.0.1 is aborted: nothing here needs the internet.

import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [api, ...ports] = process.argv.slice(2);
const password = process.env.ADMIN_PASSWORD;
if (!api || ports.length === 0 || !password) {
  console.error('usage: ADMIN_PASSWORD=… node cors.mjs <GraphQL endpoint URL> <page port>…');
  process.exit(2);
}
/** How long a page may take to finish its script. */
const PAGE_LIMIT_MS = 15_000;

// The page's own script: the API address and the password travel in the URL's fragment, which
// the browser never sends to any server. It records what happened in #result.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>CORS check</title></head>
<body><h1>CORS check</h1><pre id="result">running</pre>
<script type="module">
const { api, password } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const result = { origin: location.origin };
async function graphql(query, variables, headers = {}) {
  const response = await fetch(api, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: await response.json() };
}
try {
  const login = await graphql(
    'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
    { u: 'admin', p: password },
  );
  const token = login.body.data.login.token;
  result.loggedIn = typeof token === 'string';
  result.loginRequestId = login.requestId;
  const bearer = await graphql('{ me { username } }', {}, { authorization: 'Bearer ' + token });
  result.meByBearer = bearer.body.data.me.username;
  const xAuth = await graphql('{ me { username } }', {}, { 'x-auth-token': token });
  result.meByXAuthToken = xAuth.body.data.me.username;
} catch (error) {
  result.error = String(error);
}
const pre = document.getElementById('result');
pre.textContent = JSON.stringify(result, null, 2);
pre.dataset.done = 'true';
</script></body></html>`;

/** Serves the page on 127.0.0.1:port; fails loudly if the port was taken meanwhile. */
function servePage(port) {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(PAGE);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), '127.0.0.1', () => resolve(server));
  });
}

const servers = await Promise.all(ports.map(servePage));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: true,
});
const seen = {};
try {
  for (const port of ports) {
    const context = await browser.newContext();
    await context.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    const logged = [];
    page.on('console', (message) => logged.push(message.text()));
    const fragment = encodeURIComponent(JSON.stringify({ api, password }));
    await page.goto(`http://127.0.0.1:${port}/#${fragment}`, { timeout: PAGE_LIMIT_MS });
    await page.waitForSelector('#result[data-done]', { timeout: PAGE_LIMIT_MS });
    const result = JSON.parse(await page.textContent('#result'));
    result.console = logged;
    seen[port] = result;
    if (process.env.TEST_OUTPUT_DIR) {
      await page.screenshot({ path: join(process.env.TEST_OUTPUT_DIR, `cors-page-${port}.png`) });
    }
    await context.close();
  }
} finally {
  await browser.close();
  for (const server of servers) server.close();
}
console.log(JSON.stringify(seen));

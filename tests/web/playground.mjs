// The playground in a real browser, with no network but 127.0.0.1: open /graphql, log in with the
// `login` mutation, put the token into the headers editor, list the blacklist, and check that the
// schema loaded for the docs explorer. Fails on any page error, Content-Security-Policy violation
// or request off the host. Driven by tests/api/playground.rs.
//
// Usage: PLAYGROUND_PASSWORD=… node playground.mjs <base-url> <username> <expected-ip> <screenshot-name>

import { join } from 'node:path';

import { chromium } from 'playwright-core';

const [base, username, expectedIp, screenshotName] = process.argv.slice(2);
const password = process.env.PLAYGROUND_PASSWORD;
const outputDir = process.env.TEST_OUTPUT_DIR;
if (!base || !username || !expectedIp || !screenshotName || !password || !outputDir) {
  console.error('usage: PLAYGROUND_PASSWORD=… TEST_OUTPUT_DIR=… node playground.mjs <base-url> <username> <expected-ip> <screenshot-name>');
  process.exit(2);
}

/** Every wait in here is bounded by this, and polls for what it waits for. */
const WAIT_MS = 30_000;

const problems = [];
const offHost = [];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: true,
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Anything not on 127.0.0.1 is refused and counted: the playground must need nothing else.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') {
      return route.continue();
    }
    offHost.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  // Collected in the page from its first script on, so a violation during startup is seen too.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations.push(
        `${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) => {
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`HTTP ${response.status()} for ${response.url()}`);
    }
  });

  const response = await page.goto(`${base}/graphql`, { waitUntil: 'load', timeout: WAIT_MS });
  check(response?.status() === 200, `GET /graphql answered ${response?.status()}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: WAIT_MS });

  // The headers editor is open from the start, with the Authorization template in it.
  const template = await headersEditorValue();
  check(template.includes('"Authorization": "Bearer "'), `the headers template is ${template}`);

  // Log in through GraphiQL.
  const login = `mutation Login {
  login(username: ${JSON.stringify(username)}, password: ${JSON.stringify(password)}) { token }
}`;
  const loggedIn = await run(login, 'Login');
  const token = loggedIn?.data?.login?.token;
  if (!token) {
    throw new Error(`login through GraphiQL failed: ${JSON.stringify(loggedIn?.errors)}`);
  }

  // Put the token into the headers, as a person would.
  await page.getByRole('button', { name: 'Headers' }).click({ timeout: WAIT_MS });
  await page.evaluate((value) => {
    visibleHeadersEditor().CodeMirror.setValue(value);
    function visibleHeadersEditor() {
      return document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
    }
  }, JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));

  // The token opens the blacklist.
  const entriesQuery = `query Entries {
  blacklistEntries(first: 10) { totalCount nodes { id ip remark } }
}`;
  const entries = await run(entriesQuery, 'Entries');
  check(!entries?.errors, `blacklistEntries answered errors: ${JSON.stringify(entries?.errors)}`);
  const ips = (entries?.data?.blacklistEntries?.nodes ?? []).map((node) => node.ip);
  check(ips.includes(expectedIp), `blacklistEntries listed ${JSON.stringify(ips)}, not ${expectedIp}`);
  const shown = await page.locator('.graphiql-response').innerText({ timeout: WAIT_MS });
  check(shown.includes(expectedIp), `the result pane does not show ${expectedIp}`);

  // The schema loaded (GraphiQL's introspection passed the server's limits): the docs show the roots.
  await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"], .graphiql-sidebar button[aria-label="Documentation Explorer"]').first().click({ timeout: WAIT_MS });
  await page.waitForFunction(
    () => {
      const docs = document.querySelector('.graphiql-doc-explorer');
      return docs && (docs.innerText.includes('mutation') || docs.querySelector('.graphiql-doc-explorer-error'));
    },
    null,
    { timeout: WAIT_MS, polling: 100 },
  );
  const docsError = await page.locator('.graphiql-doc-explorer-error').count();
  check(docsError === 0, `the docs explorer shows an error: ${docsError && (await page.locator('.graphiql-doc-explorer-error').first().innerText())}`);
  const docs = await page.locator('.graphiql-doc-explorer').innerText();
  check(/query\s*:?\s*Query/.test(docs) && /mutation\s*:?\s*Mutation/.test(docs), `the docs explorer shows ${docs}`);

  // Nothing is left in the browser's storage: not the token, not the password typed into a query.
  const stored = await page.evaluate(() =>
    JSON.stringify([{ ...window.localStorage }, { ...window.sessionStorage }]),
  );
  check(!stored.includes(token), "the token was saved in the browser's storage");
  check(!stored.includes(password), "the password was saved in the browser's storage");

  await page.screenshot({ path: join(outputDir, `${screenshotName}.png`), fullPage: true });

  const violations = await page.evaluate(() => window.__cspViolations);
  for (const violation of violations) {
    problems.push(`CSP violation: ${violation}`);
  }
} catch (error) {
  problems.push(`${error.stack || error}`);
  if (page) {
    await page
      .screenshot({ path: join(outputDir, `${screenshotName}-failed.png`), fullPage: true })
      .catch(() => {});
  }
} finally {
  await browser.close();
}

if (offHost.length > 0) {
  problems.push(`requests off the host: ${offHost.join(', ')}`);
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`playground: logged in, listed ${expectedIp}, docs loaded; screenshot ${screenshotName}.png`);

function check(condition, message) {
  if (!condition) {
    problems.push(message);
  }
}

async function headersEditorValue() {
  const handle = await page.waitForFunction(
    () => document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')?.CodeMirror.getValue(),
    null,
    { timeout: WAIT_MS, polling: 100 },
  );
  return handle.jsonValue();
}

/**
 * Puts `query` into the query editor, runs its operation `operationName` with GraphiQL's run button, and returns the JSON the
 * result pane then shows (the pane is cleared first, so it is this run's result).
 */
async function run(query, operationName) {
  await page.evaluate((text) => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
    document.querySelector('.graphiql-response .CodeMirror').CodeMirror.setValue('');
  }, query);
  // GraphiQL reads the operation to run from the editor a moment after an edit; run only then.
  await page.waitForFunction(
    (name) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.operationName === name,
    operationName,
    { timeout: WAIT_MS, polling: 50 },
  );
  await page.locator('.graphiql-execute-button').click({ timeout: WAIT_MS });
  const handle = await page.waitForFunction(
    () => {
      const text = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue();
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    },
    null,
    { timeout: WAIT_MS, polling: 100 },
  );
  return handle.jsonValue();
}

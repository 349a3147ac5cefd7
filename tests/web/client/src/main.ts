// The generated TypeScript client's walk: login → create → list (finds it) → logout, then the
// token is refused. Usage: node client/dist/src/main.js <endpoint>, with CLIENT_USERNAME and
// CLIENT_PASSWORD in the environment. Prints one JSON line of what it saw; fails on any surprise.
import { BlacklistEntries, CreateBlacklistEntry, Login, Logout } from './operations.js';
import { GraphQLRefusal, execute } from './transport.js';

const endpoint = process.argv[2];
const username = process.env.CLIENT_USERNAME;
const password = process.env.CLIENT_PASSWORD;
if (!endpoint || !username || !password) {
  throw new Error('usage: main.js <endpoint>, with CLIENT_USERNAME and CLIENT_PASSWORD set');
}

const { login } = await execute(endpoint, Login, { username, password });
const token = login.token;

const ip = '203.0.113.77';
const { createBlacklistEntry: created } = await execute(
  endpoint,
  CreateBlacklistEntry,
  { input: { ip, remark: 'from the generated TypeScript client' } },
  token,
);

const { blacklistEntries } = await execute(
  endpoint,
  BlacklistEntries,
  { filter: { ipContains: ip }, first: 10 },
  token,
);
const found = blacklistEntries.nodes.some((entry) => entry.id === created.id);
if (!found) throw new Error(`the created entry ${created.id} is not listed`);

const { logout } = await execute(endpoint, Logout, {}, token);

let afterLogout: string | undefined;
try {
  await execute(endpoint, BlacklistEntries, { first: 1 }, token);
} catch (error) {
  if (!(error instanceof GraphQLRefusal)) throw error;
  afterLogout = error.code;
}

console.log(
  JSON.stringify({
    username: login.principal.username,
    created: { id: created.id, ip: created.ip, createdBy: created.createdBy },
    found,
    logout,
    afterLogout,
  }),
);

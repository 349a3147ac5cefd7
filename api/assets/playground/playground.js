// Starts GraphiQL against the endpoint this page was served from. A script file of its own, not an
// inline one, so the page's Content-Security-Policy can forbid inline scripts.
'use strict';

(function () {
  // The page is served at the endpoint's own path, so this stays right behind a path prefix.
  const endpoint = new URL(window.location.pathname, window.location.href).href;

  const defaultQuery = `# Log in, then copy the token into the Headers tab below:
#
#   { "Authorization": "Bearer <token>" }
#
# and run a query that needs it, e.g.
#
#   query Entries { blacklistEntries(first: 10) { totalCount nodes { id ip remark } } }
#
# Nothing is saved in the browser's storage: tokens and passwords go when the tab goes.

mutation Login {
  login(username: "", password: "") {
    token
    expiresAt
    principal { username permissions }
  }
}
`;

  const defaultHeaders = `{
  "Authorization": "Bearer "
}`;

  // GraphiQL keeps its tabs (with their responses, so tokens from `login`) and its history (with
  // passwords typed into queries) in the storage it is given: this one forgets with the tab.
  class MemoryStorage {
    constructor() {
      this.items = new Map();
    }
    get length() {
      return this.items.size;
    }
    key(index) {
      return [...this.items.keys()][index] ?? null;
    }
    getItem(key) {
      return this.items.has(key) ? this.items.get(key) : null;
    }
    setItem(key, value) {
      this.items.set(key, String(value));
    }
    removeItem(key) {
      this.items.delete(key);
    }
    clear() {
      this.items.clear();
    }
  }

  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultQuery,
      defaultHeaders,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      storage: new MemoryStorage(),
      // Kept out of even that storage: a token stays in the headers editor and nowhere else.
      shouldPersistHeaders: false,
    }),
  );
})();

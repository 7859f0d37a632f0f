// Latchkey's GraphiQL page: mounts the vendored GraphiQL (a UMD build that expects the
// React and ReactDOM globals) on #graphiql. Kept in its own file, not inline, so the page's
// Content-Security-Policy can allow scripts from 'self' only.
(function () {
  'use strict';

  // The page is served by `GET /graphql`, so its own path is the endpoint (this stays right
  // behind a proxy that mounts Latchkey under a prefix). The fetcher uses the browser's
  // `fetch`, which sends same-origin cookies: a `login` with `mode: SESSION` made here
  // authenticates the queries that follow.
  var endpoint = window.location.pathname;

  var defaultQuery = [
    '# Welcome to Latchkey.',
    '#',
    '# Register, then log in. With mode: SESSION the tokens travel only in httpOnly',
    '# cookies, which this page sends with every query; with the default JSON mode,',
    '# put {"Authorization": "Bearer <accessToken>"} in the Headers tab below.',
    '#',
    '# mutation Register {',
    '#   register(input: { username: "alice", password: "correct horse battery" }) { id }',
    '# }',
    '# mutation Login {',
    '#   login(input: { username: "alice", password: "correct horse battery", mode: SESSION }) {',
    '#     expiresAt',
    '#     user { username }',
    '#   }',
    '# }',
    '',
    'query Me {',
    '  me {',
    '    id',
    '    username',
    '    role',
    '  }',
    '}',
    '',
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
    }),
  );
})();

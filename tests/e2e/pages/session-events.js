// A tab that is told at once when its session ends. SESSION mode: the httpOnly access
// cookie authenticates the fetches and the WebSocket alike (the page's origin is in
// `cors_origins`, so the server accepts the cookie on the socket). `graphqlWs` is the UMD
// build of the `graphql-ws` npm package, loaded before the test calls `subscribe`.

const api = new URLSearchParams(window.location.search).get('api');
const wsUrl = api.replace(/^http/, 'ws');
document.getElementById('page-origin').textContent = window.location.origin;
document.getElementById('api').textContent = api;

async function gql(query, variables) {
  const response = await fetch(api, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function log(text) {
  const item = document.createElement('li');
  item.textContent = text;
  document.getElementById('log').append(item);
}

// What the test reads: every event with the time it arrived, and how the socket closed.
const seen = { events: [], closed: null, revokeSentAt: null };

window.sessionEventsDemo = {
  seen,
  async login({ username, password }) {
    await gql(
      'mutation Login($input: LoginInput!) { login(input: $input) { expiresAt } }',
      { input: { username, password, mode: 'SESSION' } },
    );
    const { sessions } = await gql('query { sessions { id current } }');
    const own = sessions.find((s) => s.current).id;
    document.getElementById('session').textContent = own;
    log('logged in');
    return own;
  },

  // Subscribes after the account's newest event, so nothing done after this resolves is
  // missed; resolves once the server acknowledged the connection.
  async subscribe() {
    const { myAuthEvents } = await gql('query { myAuthEvents(first: 1) { edges { node { id } } } }');
    const after = myAuthEvents.edges[0]?.node.id ?? null;
    return new Promise((resolve, reject) => {
      const client = graphqlWs.createClient({
        url: wsUrl,
        retryAttempts: 0,
        on: {
          connected: () => resolve(),
          closed: (event) => {
            seen.closed = { code: event.code, reason: event.reason, at: Date.now() };
            log(`socket closed: ${event.code} ${event.reason}`);
            document.getElementById('outcome').textContent = `This tab was logged out: ${event.reason}`;
            reject(new Error(`closed ${event.code}`));
          },
        },
      });
      client.subscribe(
        {
          query: `subscription Events($after: ID) {
            sessionEvents(after: $after) { eventId kind sessionId current reason }
          }`,
          variables: { after },
        },
        {
          next: ({ data, errors }) => {
            if (errors) {
              log(`error: ${JSON.stringify(errors)}`);
              return;
            }
            const event = data.sessionEvents;
            seen.events.push({ ...event, at: Date.now() });
            log(`${event.kind} ${event.reason ?? ''} session ${event.sessionId}${event.current ? ' (this tab)' : ''}`);
          },
          error: (error) => log(`subscription error: ${error?.code ?? error}`),
          complete: () => log('subscription complete'),
        },
      );
    });
  },

  async revoke(sessionId) {
    seen.revokeSentAt = Date.now();
    const { revokeSession } = await gql('mutation Revoke($id: ID!) { revokeSession(id: $id) }', { id: sessionId });
    log(`revoked session ${sessionId}: ${revokeSession}`);
    return { revoked: revokeSession, sentAt: seen.revokeSentAt };
  },
};

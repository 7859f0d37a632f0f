// What a browser frontend on another site does with Latchkey in SESSION mode: no token in
// JavaScript; every call sends `credentials: 'include'` so the httpOnly cookies travel.
// The test drives these steps one by one (window.latchkeyDemo) and reads what each saw.

const api = new URLSearchParams(window.location.search).get('api');
document.getElementById('page-origin').textContent = window.location.origin;
document.getElementById('api').textContent = api;

async function gql(query, variables) {
  const response = await fetch(api, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
}

function show(step, result) {
  const item = document.createElement('li');
  const error = result.body.errors?.[0];
  item.textContent = `${step}: HTTP ${result.status} ${
    error ? `error ${error.extensions?.code}` : JSON.stringify(result.body.data)
  }`;
  document.getElementById('log').append(item);
  return result;
}

window.latchkeyDemo = {
  login: async ({ username, password }) =>
    show(
      'login',
      await gql(
        `mutation Login($input: LoginInput!) {
          login(input: $input) { accessToken refreshToken expiresAt user { username } }
        }`,
        { input: { username, password, mode: 'SESSION' } },
      ),
    ),
  me: async () => show('me', await gql('query Me { me { username } }')),
  refresh: async () =>
    show('refresh', await gql('mutation Refresh { refresh { accessToken refreshToken expiresAt } }')),
  logout: async () => show('logout', await gql('mutation Logout { logout }')),
  documentCookie: () => document.cookie,
};

// The frontend's reset page: reads the token from the fragment, POSTs it with the new
// password. The API's URL comes from `window.LATCHKEY_API` (set by the test harness, as a
// real frontend would have it in its build configuration).

const token = new URLSearchParams(location.hash.slice(1)).get('token');
// Drop the token from the address bar (and from the history) once it is read.
history.replaceState(null, '', location.pathname);

document.getElementById('reset').addEventListener('submit', async (event) => {
  event.preventDefault();
  const outcome = document.getElementById('outcome');
  const response = await fetch(window.LATCHKEY_API, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ResetPassword($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }',
      variables: { token, newPassword: document.getElementById('password').value },
    }),
  });
  const body = await response.json();
  outcome.textContent = body.data?.resetPassword
    ? 'Your password was changed. Log in with the new one.'
    : `Refused: ${body.errors?.[0]?.extensions?.code ?? response.status}`;
});

// The snippet of docs/api.md, in a page: the WebAuthn options and responses pass through
// as JSON (parseCreationOptionsFromJSON / parseRequestOptionsFromJSON / toJSON). The API's
// URL comes from `window.LATCHKEY_API` (set by the test harness, as a frontend would have
// it in its build configuration). Every call sends the httpOnly cookies.

async function gql(query, variables = {}) {
  const response = await fetch(window.LATCHKEY_API, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors[0].extensions?.code ?? body.errors[0].message);
  return body.data;
}

function step(text) {
  const item = document.createElement('li');
  item.textContent = text;
  document.getElementById('steps').append(item);
}

async function addPasskey(name) {
  const { startPasskeyRegistration } = await gql(
    'mutation($name: String!) { startPasskeyRegistration(name: $name) }', { name });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(startPasskeyRegistration);
  const credential = await navigator.credentials.create({ publicKey });
  const { finishPasskeyRegistration } = await gql(
    'mutation($response: JSON!) { finishPasskeyRegistration(response: $response) { id name } }',
    { response: credential.toJSON() });
  return finishPasskeyRegistration;
}

async function signInWithPasskey() {
  const { startPasskeyLogin } = await gql('mutation { startPasskeyLogin }');
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(startPasskeyLogin);
  const credential = await navigator.credentials.get({ publicKey });
  const { finishPasskeyLogin } = await gql(
    'mutation($response: JSON!) { finishPasskeyLogin(response: $response, mode: SESSION) { accessToken user { username } } }',
    { response: credential.toJSON() });
  return finishPasskeyLogin;
}

const outcome = document.getElementById('outcome');
const guard = (work) => async (event) => {
  event.preventDefault();
  try {
    await work();
  } catch (error) {
    outcome.textContent = `Refused: ${error.message}`;
  }
};

document.getElementById('password-login').addEventListener('submit', guard(async () => {
  await gql('mutation($input: LoginInput!) { login(input: $input) { user { username } } }', {
    input: {
      username: document.getElementById('username').value,
      password: document.getElementById('password').value,
      mode: 'SESSION',
    },
  });
  step('logged in with the password (SESSION mode)');
  const passkey = await addPasskey('This browser');
  step(`passkey “${passkey.name}” registered`);
  outcome.textContent = 'registered';
}));

document.getElementById('logout').addEventListener('click', guard(async () => {
  await gql('mutation { logout }');
  step('logged out');
  outcome.textContent = 'logged out';
}));

document.getElementById('passkey-login').addEventListener('click', guard(async () => {
  const payload = await signInWithPasskey();
  step(`signed in with the passkey, no username typed (access token in the body: ${payload.accessToken ?? 'none'})`);
  const { me } = await gql('query { me { username } }');
  step(`me: ${me.username}`);
  outcome.textContent = `Signed in as ${me.username}`;
}));

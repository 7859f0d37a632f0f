// A frontend page using passkeys as docs/api.md tells a frontend team to: `gql`,
// `addPasskey` and `signInWithPasskey` are that page's snippet, with the API's URL from
// `window.LATCHKEY_API` (set by the test harness, as a frontend's build configuration
// would). The WebAuthn options and responses pass through untouched as JSON
// (`PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`,
// `credential.toJSON()`). Every call sends the httpOnly cookies.

// --- The snippet of docs/api.md -------------------------------------------------------
async function gql(query, variables = {}) {
  const res = await fetch(window.LATCHKEY_API, {
    method: 'POST', credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  const [error] = body.errors ?? [];
  if (error) throw Object.assign(new Error(error.message), { code: error.extensions?.code });
  return body.data;
}

// Add a passkey to the logged-in account.
async function addPasskey(name) {
  const { startPasskeyRegistration: options } = await gql(
    'mutation($name: String!) { startPasskeyRegistration(name: $name) }', { name });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  return gql('mutation($r: JSON!) { finishPasskeyRegistration(response: $r) { id name } }',
    { r: credential.toJSON() });
}

// Log in with no username: the browser offers the passkeys it holds for this site.
async function signInWithPasskey() {
  const { startPasskeyLogin: options } = await gql('mutation { startPasskeyLogin }');
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey });
  return gql('mutation($r: JSON!) { finishPasskeyLogin(response: $r, mode: SESSION) { user { username } } }',
    { r: credential.toJSON() });
}
// --- end of the snippet ----------------------------------------------------------------

const who = document.getElementById('who');
const outcome = document.getElementById('outcome');
document.getElementById('page-origin').textContent = window.location.origin;
document.getElementById('api').textContent = window.LATCHKEY_API;

const clock = (date = new Date()) => date.toLocaleTimeString('en-GB', { hour12: false });

function step(text) {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = clock();
  item.append(time, text);
  document.getElementById('steps').append(item);
}

/** Shows the result of one action; `data-count` tells a watcher that an action ended. */
function show(kind, text) {
  outcome.className = kind;
  outcome.textContent = text;
  outcome.dataset.count = String(Number(outcome.dataset.count ?? 0) + 1);
}

/** `me`, which a login must have made answer: its cookies are the session. */
async function signedIn() {
  const me = await refreshWho();
  if (!me) throw new Error('the login answered, but no session cookie came back (me: UNAUTHENTICATED)');
  return me;
}

/** Asks Latchkey who the cookies belong to, and says so at the top of the page. */
async function refreshWho() {
  try {
    const { me } = await gql('query { me { username email } }');
    who.textContent = `Signed in as ${me.username}${me.email ? ` (${me.email})` : ''}`;
    who.className = 'in';
    return me;
  } catch (error) {
    if (error.code !== 'UNAUTHENTICATED') throw error;
    who.textContent = 'Not signed in.';
    who.className = '';
    return null;
  }
}

function refusal(error) {
  // A GraphQL refusal has a code; the browser's own (the user cancelled, verification
  // failed, the origin does not match the RP id) is a DOMException with a name.
  // (A DOMException has a numeric legacy `code`: test for it first.)
  if (error instanceof DOMException && error.name === 'NotAllowedError') {
    return 'No passkey was used: cancelled, timed out, or this device could not verify you (NotAllowedError)';
  }
  if (error instanceof DOMException) return `The browser refused: ${error.name} (${error.message})`;
  if (error.code) return `Latchkey refused: ${error.code} (${error.message})`;
  return `Failed: ${error.message}`;
}

const action = (work) => async (event) => {
  event.preventDefault();
  try {
    const text = await work();
    show('ok', text);
  } catch (error) {
    const text = refusal(error);
    step(text);
    show('refused', text);
    await refreshWho().catch(() => {});
  }
};

document.getElementById('password-login').addEventListener('submit', action(async () => {
  const username = document.getElementById('username').value;
  await gql('mutation($input: LoginInput!) { login(input: $input) { accessToken user { username } } }', {
    input: { username, password: document.getElementById('password').value, mode: 'SESSION' },
  });
  document.getElementById('password').value = '';
  step(`Logged in as ${username} with the password (SESSION mode: the tokens went to httpOnly cookies)`);
  const me = await signedIn();
  return `Signed in as ${me.username} with the password.`;
}));

document.getElementById('add-passkey').addEventListener('click', action(async () => {
  // Adding a passkey needs a recent full login (Latchkey's reauth_window); this session's
  // is shown so a person sees why no password is asked again.
  const { sessions } = await gql('query { sessions { current authenticatedAt } }');
  const current = sessions.find((s) => s.current);
  const since = Math.round((Date.now() - Date.parse(current.authenticatedAt)) / 1000);
  step(`This session logged in ${since} s ago (at ${clock(new Date(current.authenticatedAt))}): recent enough to add a passkey without the password again`);
  const name = document.getElementById('passkey-name').value;
  const { finishPasskeyRegistration: passkey } = await addPasskey(name);
  step(`Passkey “${passkey.name}” created by this browser's authenticator and registered with Latchkey`);
  return `Passkey “${passkey.name}” added to ${(await signedIn()).username}.`;
}));

document.getElementById('delete-passkeys').addEventListener('click', action(async () => {
  // Deleting needs a recent login too; the browser keeps its credential and will still
  // offer it, but Latchkey no longer accepts it.
  const { passkeys } = await gql('query { passkeys { id name } }');
  for (const passkey of passkeys) {
    await gql('mutation($id: ID!) { deletePasskey(id: $id) }', { id: passkey.id });
    step(`Passkey “${passkey.name}” deleted from the account (this browser still holds it)`);
  }
  return `${passkeys.length} passkey(s) deleted.`;
}));

document.getElementById('logout').addEventListener('click', action(async () => {
  await gql('mutation { logout }');
  step('Logged out: the session ended and its cookies were cleared');
  await refreshWho();
  return 'Signed out.';
}));

document.getElementById('passkey-login').addEventListener('click', action(async () => {
  const { finishPasskeyLogin } = await signInWithPasskey();
  step(`Signed in as ${finishPasskeyLogin.user.username} with the passkey: no username or password typed`);
  const me = await signedIn();
  step(`me (through the cookie alone): ${me.username}`);
  return `Signed in as ${me.username} with a passkey.`;
}));

// The server's API as the UI calls it: every call sends the API key kept
// in localStorage, and a 401 asks for the key.

const keyName = 'qlite.apiKey';

// root is the server's base path: the UI is served at <root>/dashboard.
export const root = location.pathname.replace(/\/dashboard(\/.*)?$/, '');

export function getKey() {
  return localStorage.getItem(keyName) || '';
}

export function setKey(key) {
  if (key) {
    localStorage.setItem(keyName, key);
  } else {
    localStorage.removeItem(keyName);
  }
}

// AuthError is thrown for a 401 or 403: the key is missing or wrong.
export class AuthError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// APIError is thrown for any other failed call, with Qdrant's message.
export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// onAuth is called with the error when a call is refused for its key.
let authHandler = () => {};
export function onAuth(fn) {
  authHandler = fn;
}

// request calls the API and returns {status, headers, body (parsed JSON or
// text), ms (round trip)}; it throws AuthError or APIError on failure.
export async function request(method, path, body, headers = {}) {
  const h = { ...headers };
  const key = getKey();
  if (key) {
    h['api-key'] = key;
  }
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
  }
  const t0 = performance.now();
  const resp = await fetch(root + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = (await resp.text()).trim();
  const ms = performance.now() - t0;
  let parsed = text;
  if ((resp.headers.get('Content-Type') || '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Leave the text as it is.
    }
  }
  if (resp.status === 401 || resp.status === 403) {
    const err = new AuthError(resp.status, typeof parsed === 'string' ? parsed : errorText(parsed));
    authHandler(err);
    throw err;
  }
  if (!resp.ok) {
    throw new APIError(resp.status, typeof parsed === 'string' ? parsed || resp.statusText : errorText(parsed));
  }
  return { status: resp.status, headers: resp.headers, body: parsed, ms };
}

function errorText(body) {
  if (body && body.status && body.status.error) {
    return body.status.error;
  }
  return JSON.stringify(body);
}

// result calls the API and returns the result of Qdrant's envelope.
export async function result(method, path, body) {
  const r = await request(method, path, body);
  return r.body.result;
}

// collPath is the API path of a collection.
export function collPath(name) {
  return '/collections/' + encodeURIComponent(name);
}

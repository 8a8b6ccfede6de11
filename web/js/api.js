/** Taskwire's public HTTP API: the token on every call, problem JSON (RFC 9457) turned into ApiError. */

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.errors = problem.errors || {};  // {field: [messages]}
  }
}

let token = null;
let sessionLost = () => {};

export function setToken(value) { token = value; }
export function getToken() { return token; }
/** Called once a signed-in call comes back 401: the token expired or was revoked. */
export function onSessionLost(callback) { sessionLost = callback; }

/** `<url>; rel="next", <url>; rel="last"` → {next: url, last: url} (RFC 8288). */
export function parseLinks(header) {
  const links = {};
  for (const part of (header || '').split(',')) {
    const match = part.match(/<([^>]*)>\s*;\s*rel="?([^";]+)"?/);
    if (match) links[match[2]] = match[1];
  }
  return links;
}

/** request('GET', '/api/tasks/', {query: {status: 'todo'}}) → {data, total, links} */
export async function request(method, path, { body, query } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    // An empty filter is left out: the API refuses empty values rather than ignoring them.
    if (value !== '' && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { title: 'Network error', detail: 'The server could not be reached.' });
  }
  const data = await readJson(response);
  if (response.status === 401 && token) sessionLost();
  if (!response.ok) throw new ApiError(response.status, data || { title: response.statusText });
  const total = response.headers.get('X-Total-Count');
  return { data, total: total === null ? null : Number(total), links: parseLinks(response.headers.get('Link')) };
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body) => request('POST', path, { body }),
  put: (path, body) => request('PUT', path, { body }),
  patch: (path, body) => request('PATCH', path, { body }),
  delete: (path) => request('DELETE', path),
};

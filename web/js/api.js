/** Taskwire's public HTTP API: the token on every call, problem JSON (RFC 9457) turned into ApiError. */
import { noteServerDate } from './clock.js';

export class ApiError extends Error {
  constructor(status, problem, headers = new Headers()) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.errors = problem.errors || {};  // {field: [messages]}
    this.problem = problem;  // the whole body: a 412 carries `current`, the resource as it is now
    this.retryAfter = headers.has('Retry-After') ? Number(headers.get('Retry-After')) : null;
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

/** request('GET', '/api/tasks/', {query: {status: 'todo'}, headers: {...}}) → {data, total, links} */
export async function request(method, path, { body, query, headers: extra } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    // An empty filter is left out: the API refuses empty values rather than ignoring them.
    if (value !== '' && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const headers = { Accept: 'application/json', ...extra };
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
  noteServerDate(response.headers.get('Date'));  // the server's "now", for due-date cues
  const data = await readJson(response);
  if (response.status === 401 && token) sessionLost();
  if (!response.ok) throw new ApiError(response.status, data || { title: response.statusText }, response.headers);
  const total = response.headers.get('X-Total-Count');
  return { data, total: total === null ? null : Number(total), links: parseLinks(response.headers.get('Link')),
           estimated: response.headers.get('X-Total-Count-Estimated') === 'true' };
}

/** A list's total as words: past 1,000 rows the API estimates it ("about 12,345"). */
export function totalText(total, estimated) {
  return `${estimated ? 'about ' : ''}${total.toLocaleString('en')}`;
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body, headers) => request('POST', path, { body, headers }),
  put: (path, body, headers) => request('PUT', path, { body, headers }),
  patch: (path, body, headers) => request('PATCH', path, { body, headers }),
  delete: (path, headers) => request('DELETE', path, { headers }),
};

/** If-Match for a change made from this copy of a resource: applied only if nobody changed it since. */
export const ifMatch = (resource) => ({ 'If-Match': `"${resource.version}"` });

/** A random Idempotency-Key. getRandomValues, unlike randomUUID, works on plain-HTTP pages too. */
function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

const RETRY_DELAYS_MS = [500, 1000, 2000];
const createKeys = new Map();  // path and body → the Idempotency-Key of a create not yet known to have succeeded

/**
 * POST a create with an Idempotency-Key, retried after a network error, a gateway error or a "try again"
 * (Retry-After: the first attempt still running): the server answers a retry with its first answer, so a
 * create is never made twice. A failed create keeps its key, so saving the same thing again reuses it too.
 */
export async function createOnce(path, body) {
  const id = `${path} ${JSON.stringify(body)}`;
  if (!createKeys.has(id)) createKeys.set(id, newIdempotencyKey());
  const headers = { 'Idempotency-Key': createKeys.get(id) };
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await api.post(path, body, headers);
      createKeys.delete(id);
      return result;
    } catch (error) {
      const worthRetrying = error.status === 0 || error.status === 502 || error.status === 504
        || error.retryAfter !== null;
      if (!worthRetrying || attempt >= RETRY_DELAYS_MS.length) throw error;
      await new Promise((resolve) => { setTimeout(resolve, RETRY_DELAYS_MS[attempt]); });
    }
  }
}

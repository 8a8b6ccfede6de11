/** The signed-in session: kept in sessionStorage (this tab only, gone when it closes), never in a URL. */
import { api, setToken } from './api.js';

const KEY = 'taskwire.session';

export const session = { token: null, user: null };

export const isAdmin = () => session.user?.role === 'admin';

function remember(token, user) {
  session.token = token;
  session.user = user;
  setToken(token);
  sessionStorage.setItem(KEY, JSON.stringify({ token, user }));
}

export function forget() {
  session.token = null;
  session.user = null;
  setToken(null);
  sessionStorage.removeItem(KEY);
}

/** A session saved by this tab before a reload, if the server still accepts its token. */
export async function restore() {
  let saved;
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { saved = null; }
  if (!saved?.token) return false;
  setToken(saved.token);
  try {
    const { data } = await api.get('/api/auth/me/');
    remember(saved.token, data);
    return true;
  } catch {
    forget();
    return false;
  }
}

export async function signIn(username, password) {
  const { data } = await api.post('/api/auth/login/', { username, password });
  remember(data.token, data.user);
}

export async function signUp(username, email, password) {
  const { data } = await api.post('/api/auth/register/', { username, email, password });
  remember(data.token, data.user);
}

export async function signOut() {
  try { await api.post('/api/auth/logout/'); } catch { /* the token may already be dead: forget it anyway */ }
  forget();
}

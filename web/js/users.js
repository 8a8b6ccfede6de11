/** Admin: the users page (create, change role, deactivate). */
import { api, createOnce, ifMatch } from './api.js';
import { $, h } from './dom.js';
import { clearErrors, formValues, showErrors } from './forms.js';
import { session } from './session.js';
import { toast } from './toast.js';

let changed = () => {};

export function setUpUsers({ onChange }) {
  changed = onChange;
  $('#user-form').addEventListener('submit', createUser);
}

const USERS_PAGE = 100;

/** The newest users first: a user just created is always in view. */
export async function renderUsers() {
  const { data, links } = await api.get('/api/auth/users/', { page_size: USERS_PAGE, ordering: '-id' });
  const rows = data.map(userRow);
  if (links.next) {
    rows.push(h('tr', {}, h('td', { colspan: 5, className: 'empty' },
      `The newest ${data.length} users.`)));
  }
  $('#user-table tbody').replaceChildren(...rows);
}

function userRow(user) {
  const role = h('select', { 'aria-label': `Role of ${user.username}`, disabled: !user.is_active },
    h('option', { value: 'user', selected: user.role === 'user' }, 'user'),
    h('option', { value: 'admin', selected: user.role === 'admin' }, 'admin'));
  role.addEventListener('change', () => changeRole(user, role));
  const deactivate = h('button', {
    type: 'button', className: 'danger', 'aria-label': `Deactivate ${user.username}`,
    onclick: (event) => deactivateUser(user, event.currentTarget),
  }, 'Deactivate');
  return h('tr', { dataset: { userId: user.id } },
    h('td', {}, user.username, user.id === session.user.id ? ' (you)' : ''),
    h('td', {}, user.email),
    h('td', {}, role),
    h('td', {}, user.is_active ? 'yes' : 'no'),
    h('td', {}, user.is_active ? deactivate : ''));
}

async function createUser(event) {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    const { data } = await createOnce('/api/auth/users/', formValues(form));
    form.reset();
    clearErrors(form);
    toast(`User ${data.username} created`);
    await changed();
  } catch (error) {
    showErrors(form, error);
  }
}

async function changeRole(user, select) {
  try {
    await api.put(`/api/auth/users/${user.id}/role/`, { role: select.value }, ifMatch(user));
    toast(`${user.username} is now ${select.value === 'admin' ? 'an admin' : 'a user'}`);
  } catch (error) {
    toast(staleOr(error, user), { kind: 'error' });  // e.g. 409: the last active admin
  }
  await changed();
}

/** Two steps, as for deleting a task. */
async function deactivateUser(user, button) {
  if (!button.dataset.armed) {
    button.dataset.armed = 'yes';
    button.textContent = 'Really deactivate?';
    button.setAttribute('aria-label', `Really deactivate ${user.username}?`);
    return;
  }
  try {
    await api.delete(`/api/auth/users/${user.id}/`, ifMatch(user));
    toast(`${user.username} deactivated`);
  } catch (error) {
    toast(staleOr(error, user), { kind: 'error' });
  }
  await changed();
}

/** A 412 means another admin changed the user first: nothing was done, and the list is re-read below. */
function staleOr(error, user) {
  if (error.status !== 412) return error.message;
  return `${user.username} was changed by someone else meanwhile; nothing was done. Check and try again.`;
}

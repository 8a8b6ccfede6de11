/** The console's entry point: sign-in, routing between views, and the live feed keeping them current. */
import { api, onSessionLost } from './api.js';
import { announceNotification, announceTaskUpdate, noteOwnChange } from './announcer.js';
import { setUpBoard, renderBoard } from './board.js';
import { changeTask } from './conflict.js';
import { $, $$, debounce } from './dom.js';
import { keepDueCuesCurrent } from './due.js';
import { formValues, showErrors, clearErrors } from './forms.js';
import { LiveFeed } from './live.js';
import { closePanel, notificationArrived, refreshUnreadCount, setUpNotifications } from './notifications.js';
import { forget, isAdmin, restore, session, signIn, signOut, signUp } from './session.js';
import { setUpTable, renderTable } from './table.js';
import { openTaskForm, setUpTaskForm } from './task-form.js';
import { loadPeople, newsOf, people, view } from './tasks.js';
import { toast } from './toast.js';
import { renderUsers, setUpUsers } from './users.js';

const VIEWS = ['tasks', 'board', 'users'];
let feed = null;

function currentView() {
  const name = window.location.hash.replace(/^#\//, '');
  if (name === 'users' && !isAdmin()) return 'tasks';
  return VIEWS.includes(name) ? name : 'tasks';
}

/** Re-fetch what is on screen. Every change, ours or from the feed, comes back through here. */
async function refresh() {
  try {
    const name = currentView();
    if (name === 'tasks') await renderTable();
    else if (name === 'board') await renderBoard();
    else await renderUsers();
    $('#filters .form-error').textContent = '';
  } catch (error) {
    if (error.status === 401) return;  // the session-lost handler takes over
    if (error.status === 400) showErrors($('#filters'), error);
    else toast(error.message, { kind: 'error' });
  }
}
const refreshSoon = debounce(refresh, 100);  // a burst of feed messages costs one fetch

function showView() {
  const name = currentView();
  closePanel();  // it belongs to the view the user just left
  for (const other of VIEWS) $(`#${other}-view`).hidden = other !== name;
  $('#filters').hidden = name === 'users';
  $('#f-status').closest('.field').hidden = name === 'board';  // the board's columns are the statuses
  for (const link of $$('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Taskwire`;
  refresh();
}

function onFeedMessage(message) {
  if (message.type === 'task_update') {
    const news = newsOf(message);
    if (news === 'stale') return;  // older than the row on screen: a late or repeated delivery
    announceTaskUpdate(message);
    // 'shown': a re-fetch already brought it. (Re-rendering users would disarm a pending confirm.)
    if (news === 'new' && currentView() !== 'users') refreshSoon();
  } else if (message.type === 'notification') {
    announceNotification(message.notification);
    notificationArrived(message.notification).catch(() => {});
  }
}

function startFeed() {
  feed = new LiveFeed(async () => (await api.post('/api/auth/ws-ticket/')).data.ticket, {
    // Not on every reconnect: a resumed socket brings what it missed as messages.
    onResync: () => { refreshSoon(); refreshUnreadCount().catch(() => {}); },
    onMessage: onFeedMessage,
    onState: (state) => {
      const label = { connecting: 'Connecting…', live: 'Live', offline: 'Offline — reconnecting' }[state];
      $('#live-status').textContent = label;
      $('#live-status').dataset.state = state;
    },
    onRefused: () => endSession('Your session has ended. Please sign in again.'),
  });
  feed.start();
}

async function enterApp() {
  $('#auth-view').hidden = true;
  $('#app-view').hidden = false;
  $('#whoami').textContent = `${session.user.username} (${session.user.role})`;
  for (const el of $$('[data-admin-only]')) el.hidden = !isAdmin();
  try { await loadPeople(); } catch (error) { toast(error.message, { kind: 'error' }); }
  fillAssigneeFilter();
  startFeed();
  showView();
}

function endSession(message) {
  feed?.stop();
  feed = null;
  forget();
  closePanel();
  $('#task-dialog').close();
  $('#app-view').hidden = true;
  $('#auth-view').hidden = false;
  $('#signin-form .form-error').textContent = message || '';
  $('#signin-username').focus();
}

function fillAssigneeFilter() {
  const select = $('#f-assignee');
  const users = [...people.values()].sort((a, b) => a.username.localeCompare(b.username));
  select.replaceChildren(new Option('Anyone', ''), ...users.map((user) => new Option(user.username, user.id)));
  select.value = view.filters.assigned_user;
}

function setUpAuthForms() {
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const { username, password } = formValues(form);
    try {
      await signIn(username, password);
      form.reset();
      clearErrors(form);
      await enterApp();
    } catch (error) {
      showErrors(form, error);
    }
  });
  $('#signup-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const { username, email, password } = formValues(form);
    try {
      await signUp(username, email, password);
      form.reset();
      clearErrors(form);
      await enterApp();
    } catch (error) {
      showErrors(form, error);
    }
  });
  $('#signout').addEventListener('click', async () => {
    feed?.stop();  // before the logout closes it with 4401
    await signOut();
    endSession('Signed out.');
  });
}

function setUpFilters() {
  const form = $('#filters');
  const apply = () => {
    Object.assign(view.filters, formValues(form));
    view.page = 1;
    refresh();
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); apply(); });
  form.addEventListener('change', apply);
  $('#f-q').addEventListener('input', debounce(apply, 300));
}

async function moveTask(task, status) {
  noteOwnChange(task.id);
  try {
    const { task: now, applied } = await changeTask(task, { status });
    if (!applied) toast(`Your move of ‘${now.title}’ was discarded`);
  } catch (error) {
    toast(error.message, { kind: 'error' });
  }
  refresh();
}

function onTaskSaved(task, verb) {
  noteOwnChange(task.id);
  toast(`Task ‘${task.title}’ ${verb}`, { kind: 'success' });
  refresh();
}

/** After a change on the users page: names, the assignee picker and the table again (busy meanwhile). */
async function reloadPeople() {
  const table = $('#user-table');
  table.setAttribute('aria-busy', 'true');
  try {
    await loadPeople();
    fillAssigneeFilter();
    await refresh();
  } finally {
    table.setAttribute('aria-busy', 'false');
  }
}

async function main() {
  onSessionLost(() => endSession('Your session has ended. Please sign in again.'));
  setUpAuthForms();
  setUpFilters();
  setUpTable({ onEdit: openTaskForm, onChange: refresh });
  setUpBoard({ onMove: moveTask, onEdit: openTaskForm });
  setUpTaskForm({ onSaved: onTaskSaved });
  setUpNotifications();
  setUpUsers({ onChange: reloadPeople });
  keepDueCuesCurrent();
  for (const button of $$('[data-action="new-task"]')) button.addEventListener('click', () => openTaskForm());
  window.addEventListener('hashchange', () => { if (session.token) showView(); });
  if (await restore()) await enterApp();
  else endSession();
}

main();

/** Tasks as the API knows them, the filters the views share, and the people a task can be assigned to. */
import { api, createOnce, ifMatch } from './api.js';
import { isAdmin, session } from './session.js';

export const STATUSES = [['todo', 'To do'], ['in_progress', 'In progress'], ['completed', 'Completed']];
export const PRIORITIES = [['low', 'Low'], ['medium', 'Medium'], ['high', 'High']];
export const statusLabel = (value) => Object.fromEntries(STATUSES)[value] || value;
export const priorityLabel = (value) => Object.fromEntries(PRIORITIES)[value] || value;

export const PAGE_SIZE = 20;
const BOARD_COLUMN_SIZE = 100;  // the API's page_size maximum

/** What the table and board show: the API's own filter names, an ordering and a page. */
export const view = {
  filters: { q: '', status: '', priority: '', due_date: '', assigned_user: '' },
  ordering: 'due_date',
  page: 1,
};

export async function listTasks() {
  return api.get('/api/tasks/', { ...view.filters, ordering: view.ordering, page: view.page, page_size: PAGE_SIZE });
}

/** One page of a board column: the view's filters with this status. */
export async function listColumn(status, page = 1) {
  return api.get('/api/tasks/', {
    ...view.filters, status, ordering: '-priority,due_date', page, page_size: BOARD_COLUMN_SIZE,
  });
}

export const createTask = (fields) => createOnce('/api/tasks/', fields);
/** Changes made from this copy of the task: a 412 if someone else changed it first (see conflict.js). */
export const updateTask = (task, fields) => api.patch(`/api/tasks/${task.id}/`, fields, ifMatch(task));
export const deleteTask = (task) => api.delete(`/api/tasks/${task.id}/`, ifMatch(task));

/** The tasks on screen by id, as last fetched: what an edit starts from, and what a live event is held against. */
export const shown = new Map();

export function showing(tasks) {
  shown.clear();
  for (const task of tasks) shown.set(task.id, task);
}

/**
 * What a live task event means for the screen: 'stale' when it is older than the row shown (a late or
 * repeated delivery: ignore it), 'shown' when the row already shows it (our own re-fetch was faster), 'new'.
 */
export function newsOf(message) {
  const held = shown.get(message.task?.id);
  if (!held || typeof message.task.version !== 'number') return 'new';
  if (message.task.version < held.version) return 'stale';
  // A delete carries the task as it was: the same version as the row, and still news.
  if (message.task.version === held.version && message.action !== 'task_deleted') return 'shown';
  return 'new';
}

/** Users by id, for names in the views and the admin's assignee picker (a user only ever sees their own tasks). */
export const people = new Map();

export async function loadPeople() {
  people.clear();
  if (session.user) people.set(session.user.id, session.user);
  if (!isAdmin()) return;
  // Every page: any user may be an assignee, and a name must never fall back to an id.
  for (let page = 1; ; page += 1) {
    const { data, links } = await api.get('/api/auth/users/', { page, page_size: 100 });
    for (const user of data) people.set(user.id, user);
    if (!links.next || page >= 100) break;
  }
}

export function personName(id) {
  if (id === null || id === undefined) return '—';
  if (id === session.user?.id) return `${session.user.username} (you)`;
  return people.get(id)?.username || `user #${id}`;
}

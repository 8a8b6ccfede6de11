/** The table view: sortable columns (the API's `ordering`), and pages from X-Total-Count and Link. */
import { totalText } from './api.js';
import { $, $$, h } from './dom.js';
import { dueCue } from './due.js';
import { PAGE_SIZE, listTasks, personName, priorityLabel, showing, statusLabel, view } from './tasks.js';

let openEditor = () => {};

export function setUpTable({ onEdit, onChange }) {
  openEditor = onEdit;
  for (const button of $$('#task-table [data-sort]')) {
    button.addEventListener('click', () => {
      const field = button.dataset.sort;
      // First click sorts ascending, the next descending.
      view.ordering = view.ordering === field ? `-${field}` : field;
      view.page = 1;
      onChange();
    });
  }
  $('#tasks-view [data-page="prev"]').addEventListener('click', () => { view.page -= 1; onChange(); });
  $('#tasks-view [data-page="next"]').addEventListener('click', () => { view.page += 1; onChange(); });
}

let latestRender = 0;  // re-reads overlap (a burst of live changes): only the answer to the latest is drawn

export async function renderTable() {
  const render = ++latestRender;
  const { data: tasks, total, links, estimated } = await listTasks();
  if (render !== latestRender) return;  // an older answer arriving last would take a newer row away
  showing(tasks);
  const body = $('#task-table tbody');
  body.replaceChildren(...tasks.map(taskRow));
  if (!tasks.length) {
    body.append(h('tr', {}, h('td', { colspan: 7, className: 'empty' }, 'No tasks match.')));
  }
  markSortedColumn();
  const pages = Math.max(1, Math.ceil((total ?? tasks.length) / PAGE_SIZE));
  const count = totalText(total ?? tasks.length, estimated);
  $('#page-info').textContent = `Page ${view.page} of ${estimated ? 'about ' : ''}${pages} · ${count} tasks`;
  $('#tasks-view [data-page="prev"]').disabled = !links.prev;
  $('#tasks-view [data-page="next"]').disabled = !links.next;
}

function taskRow(task) {
  return h('tr', { dataset: { taskId: task.id } },
    h('td', {}, task.title),
    h('td', {}, h('span', { className: `pill status-${task.status}` }, statusLabel(task.status))),
    h('td', {}, h('span', { className: `pill priority-${task.priority}` }, priorityLabel(task.priority))),
    h('td', {}, task.due_date || '—', ' ', dueCue(task)),
    h('td', {}, personName(task.assigned_user)),
    h('td', {}, h('time', { datetime: task.updated_at }, new Date(task.updated_at).toLocaleString())),
    h('td', {}, h('button', {
      type: 'button', 'aria-label': `Edit ‘${task.title}’`, onclick: () => openEditor(task),
    }, 'Edit')));
}

function markSortedColumn() {
  const descending = view.ordering.startsWith('-');
  const field = view.ordering.replace(/^-/, '');
  for (const button of $$('#task-table [data-sort]')) {
    const header = button.closest('th');
    if (button.dataset.sort === field) header.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    else header.setAttribute('aria-sort', 'none');
  }
}

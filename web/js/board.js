/**
 * The board: one column per status; dragging a card (or its Move menu, for keyboards and phones) PATCHes its
 * status. A column shows the API's largest page (100 cards) and a "Load more" button while it has more.
 */
import { totalText } from './api.js';
import { $, h } from './dom.js';
import { dueCue } from './due.js';
import { STATUSES, listColumn, personName, priorityLabel, showing, shown, view } from './tasks.js';
import { toast } from './toast.js';

let moveTask = async () => {};
let openEditor = () => {};
// Pages each column has loaded, kept across re-fetches (a live change must not take the loaded cards away)
// for as long as the filters stay the same.
const pagesLoaded = new Map();  // status → pages
let pagesLoadedFor = '';
let latestRender = 0;  // renders overlap (a live change, "Load more"): only the latest one may draw

export function setUpBoard({ onMove, onEdit }) {
  moveTask = onMove;
  openEditor = onEdit;
  $('#board').replaceChildren(...STATUSES.map(([status, label]) => column(status, label)));
}

function column(status, label) {
  const list = h('ul', { className: 'cards', 'aria-labelledby': `col-${status}` });
  const more = h('button', { type: 'button', className: 'load-more', hidden: true },
    'Load more', h('span', { className: 'visually-hidden' }, ` in ${label}`));
  more.addEventListener('click', () => loadMore(status));
  const section = h('section', { className: 'column', dataset: { status } },
    h('h2', { id: `col-${status}` }, label, ' ', h('span', { className: 'count' }, '')),
    list, more);
  section.addEventListener('dragover', (event) => {
    if (!event.dataTransfer.types.includes('text/x-task-id')) return;
    event.preventDefault();  // allows the drop
    event.dataTransfer.dropEffect = 'move';
    section.classList.add('drop-target');
  });
  section.addEventListener('dragleave', (event) => {
    if (!section.contains(event.relatedTarget)) section.classList.remove('drop-target');
  });
  section.addEventListener('drop', (event) => {
    event.preventDefault();
    section.classList.remove('drop-target');
    const task = shown.get(Number(event.dataTransfer.getData('text/x-task-id')));
    const card = document.querySelector(`.card-task[data-task-id="${task?.id}"]`);
    if (!task || task.status === status) return;
    if (card) list.prepend(card);  // at once; the feed or a re-fetch puts it in its final place
    moveTask(task, status);
  });
  return section;
}

export async function renderBoard() {
  const filters = JSON.stringify(view.filters);
  if (filters !== pagesLoadedFor) {
    pagesLoaded.clear();
    pagesLoadedFor = filters;
  }
  const render = ++latestRender;
  const columns = await Promise.all(STATUSES.map(([status]) => fetchColumn(status, pagesLoaded.get(status) || 1)));
  if (render !== latestRender) return;  // a later render started: it has the newer board
  showing(columns.flatMap(({ tasks }) => tasks));
  STATUSES.forEach(([status], index) => {
    const { tasks, total, more } = columns[index];
    columnOf(status).querySelector('.cards').replaceChildren(...tasks.map(card));
    showCount(status, total, more);
  });
}

const columnOf = (status) => $(`#board .column[data-status="${status}"]`);

/** The first `pages` pages of a column (fewer once there are no more): {tasks, total (as words), more}. */
async function fetchColumn(status, pages) {
  const tasks = new Map();  // by id: a task that moved between pages meanwhile is shown once
  let total = null;
  let more = false;
  let estimated = false;
  for (let page = 1; page <= pages; page += 1) {
    const answer = await listColumn(status, page);
    for (const task of answer.data) tasks.set(task.id, task);
    ({ total, estimated } = answer);
    more = Boolean(answer.links.next);
    if (!more) break;
  }
  return { tasks: [...tasks.values()], total: totalText(total ?? tasks.size, estimated), more };
}

/** One more page in a column: the board is read again with it, so a concurrent live change is not lost. */
async function loadMore(status) {
  const section = columnOf(status);
  const button = section.querySelector('.load-more');
  const before = section.querySelectorAll('.card-task').length;
  const pages = pagesLoaded.get(status) || 1;
  pagesLoaded.set(status, pages + 1);
  button.disabled = true;
  try {
    await renderBoard();
  } catch (error) {
    pagesLoaded.set(status, pages);
    toast(error.message, { kind: 'error' });
  } finally {
    button.disabled = false;
  }
  // The button is gone after the last page: focus goes on to the first card it brought.
  if (button.hidden) section.querySelectorAll('.card-task .card-title')[before]?.focus();
}

function showCount(status, total, more) {
  const section = columnOf(status);
  const showingNow = section.querySelector('.cards').children.length;
  section.querySelector('.count').textContent = more ? `(${showingNow} of ${total})` : `(${total})`;
  section.querySelector('.load-more').hidden = !more;
}

function card(task) {
  const move = h('select', { 'aria-label': `Move to, for ‘${task.title}’`, className: 'move' },
    ...STATUSES.map(([value, label]) => h('option', { value, selected: value === task.status }, label)));
  move.addEventListener('change', () => moveTask(task, move.value));
  const item = h('li', {
    className: `card-task priority-${task.priority}`, draggable: 'true',
    dataset: { taskId: task.id, status: task.status },
  },
  h('button', { type: 'button', className: 'card-title', onclick: () => openEditor(task) }, task.title),
  h('p', { className: 'meta' },
    h('span', { className: `pill priority-${task.priority}` }, priorityLabel(task.priority)),
    task.due_date ? ` due ${task.due_date} ` : '',
    dueCue(task),
    ` · ${personName(task.assigned_user)}`),
  h('label', { className: 'move-label' }, 'Move to ', move));
  item.addEventListener('dragstart', (event) => {
    event.dataTransfer.setData('text/x-task-id', String(task.id));
    event.dataTransfer.effectAllowed = 'move';
    item.classList.add('dragging');
  });
  item.addEventListener('dragend', () => item.classList.remove('dragging'));
  return item;
}

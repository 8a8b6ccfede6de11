/** The board: one column per status; dragging a card (or its Move menu, for keyboards and phones) PATCHes its status. */
import { $, h } from './dom.js';
import { STATUSES, listColumn, personName, priorityLabel, showing, shown } from './tasks.js';

let moveTask = async () => {};
let openEditor = () => {};

export function setUpBoard({ onMove, onEdit }) {
  moveTask = onMove;
  openEditor = onEdit;
  $('#board').replaceChildren(...STATUSES.map(([status, label]) => column(status, label)));
}

function column(status, label) {
  const list = h('ul', { className: 'cards', 'aria-labelledby': `col-${status}` });
  const section = h('section', { className: 'column', dataset: { status } },
    h('h2', { id: `col-${status}` }, label, ' ', h('span', { className: 'count' }, '')),
    list);
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
  const results = await Promise.all(STATUSES.map(([status]) => listColumn(status)));
  showing(results.flatMap(({ data }) => data));
  STATUSES.forEach(([status], index) => {
    const { data: tasks, total } = results[index];
    const section = $(`#board .column[data-status="${status}"]`);
    section.querySelector('.cards').replaceChildren(...tasks.map(card));
    const shown = tasks.length < total ? `${tasks.length} of ${total}` : `${total ?? tasks.length}`;
    section.querySelector('.count').textContent = `(${shown})`;
  });
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
    task.due_date ? ` due ${task.due_date}` : '',
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

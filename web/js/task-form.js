/** Create, edit and delete a task in a dialog; the API's validation errors appear at their fields. */
import { changeTask, removeTask } from './conflict.js';
import { $, h } from './dom.js';
import { clearErrors, formValues, showErrors } from './forms.js';
import { isAdmin } from './session.js';
import { createTask, people } from './tasks.js';

const dialog = () => $('#task-dialog');
const form = () => $('#task-form');
let editing = null;  // the task being edited, or null for a new one
let afterSave = () => {};

export function setUpTaskForm({ onSaved }) {
  afterSave = onSaved;
  form().addEventListener('submit', (event) => { event.preventDefault(); save(); });
  $('#cancel-task').addEventListener('click', () => dialog().close());
  $('#delete-task').addEventListener('click', confirmDelete);
}

export function openTaskForm(task = null) {
  editing = task;
  const f = form();
  f.reset();
  clearErrors(f);
  fillAssignees();
  $('#task-dialog-title').textContent = task ? `Edit ‘${task.title}’` : 'New task';
  if (task) {
    f.elements.title.value = task.title;
    f.elements.description.value = task.description || '';
    f.elements.status.value = task.status;
    f.elements.priority.value = task.priority;
    f.elements.due_date.value = task.due_date || '';
    f.elements.assigned_user.value = task.assigned_user ?? '';
  }
  const remove = $('#delete-task');
  remove.hidden = !task;
  remove.textContent = 'Delete';
  delete remove.dataset.armed;
  dialog().showModal();
  f.elements.title.focus();
}

function fillAssignees() {
  const select = form().elements.assigned_user;
  const active = [...people.values()].filter((user) => user.is_active !== false)
    .sort((a, b) => a.username.localeCompare(b.username));
  select.replaceChildren(h('option', { value: '' }, 'Nobody'),
    ...active.map((user) => h('option', { value: user.id }, user.username)));
}

/** The body as the API wants it: empty date means none; a user never sends an assignee (always themselves). */
function body() {
  const values = formValues(form());
  const fields = {
    title: values.title,
    description: values.description,
    status: values.status,
    priority: values.priority,
    due_date: values.due_date || null,
  };
  if (isAdmin()) fields.assigned_user = values.assigned_user ? Number(values.assigned_user) : null;
  return fields;
}

/** The fields the user changed from the task as opened: only those are sent, and re-applied after a conflict. */
function changedFields(task, fields) {
  return Object.fromEntries(Object.entries(fields).filter(([name, value]) => value !== (task[name] ?? null)));
}

async function save() {
  try {
    if (!editing) {
      const { data } = await createTask(body());  // retried with one Idempotency-Key: never two tasks
      dialog().close();
      afterSave(data, 'created');
      return;
    }
    const changes = changedFields(editing, body());
    if (!Object.keys(changes).length) {
      dialog().close();
      return;
    }
    const { task, applied } = await changeTask(editing, changes);
    dialog().close();
    afterSave(task, applied ? 'updated' : 'left as it is: your change was discarded');
  } catch (error) {
    showErrors(form(), error);
  }
}

/** Two steps, so one stray click or key press does not delete. */
async function confirmDelete(event) {
  const button = event.currentTarget;
  if (!button.dataset.armed) {
    button.dataset.armed = 'yes';
    button.textContent = 'Really delete?';
    return;
  }
  try {
    const deleted = await removeTask(editing);
    dialog().close();
    afterSave(editing, deleted ? 'deleted' : 'kept');
  } catch (error) {
    showErrors(form(), error);
  }
}

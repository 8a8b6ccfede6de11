/**
 * Changes to a task are sent with If-Match: the version they were made from. When someone else changed the
 * task first, the server changes nothing and answers 412 with the task as it is now; this module shows what
 * changed since and lets the user apply their change over the current task, or discard it.
 */
import { $, h } from './dom.js';
import { deleteTask, personName, priorityLabel, statusLabel, updateTask } from './tasks.js';

const asIs = (value) => value ?? '—';
const FIELDS = [
  ['title', 'Title', asIs], ['description', 'Description', (value) => value || '—'],
  ['status', 'Status', statusLabel], ['priority', 'Priority', priorityLabel],
  ['due_date', 'Due date', asIs], ['assigned_user', 'Assignee', personName],
];

/** Change the task from the copy `base`; on a conflict, ask. Resolves to {task, applied}. */
export async function changeTask(base, changes) {
  let from = base;
  for (;;) {
    try {
      const { data } = await updateTask(from, changes);
      return { task: data, applied: true };
    } catch (error) {
      if (error.status !== 412) throw error;
      const current = error.problem.current;
      if (!await ask({ base: from, current, mine: changes })) return { task: current, applied: false };
      from = current;  // and again from there: if it changed once more meanwhile, the user is asked again
    }
  }
}

/** Delete the task as the copy `base` shows it; if it changed since, ask first. Resolves to whether it was deleted. */
export async function removeTask(base) {
  let from = base;
  for (;;) {
    try {
      await deleteTask(from);
      return true;
    } catch (error) {
      if (error.status !== 412) throw error;
      const current = error.problem.current;
      if (!await ask({ base: from, current, mine: null })) return false;
      from = current;
    }
  }
}

/** The dialog: what they changed, what you changed; resolves to true for "apply mine", false for "discard". */
function ask({ base, current, mine }) {
  const dialog = $('#conflict-dialog');
  const deleting = mine === null;
  $('#conflict-intro').textContent = `‘${current.title}’ was changed by someone else after you opened it. `
    + (deleting ? 'Delete it anyway?' : 'Nothing of yours is saved yet.');
  const rows = FIELDS.filter(([name]) => base[name] !== current[name] || (mine && name in mine))
    .map(([name, label, show]) => h('tr', { dataset: { field: name } },
      h('th', { scope: 'row' }, label),
      h('td', {}, String(show(base[name]))),
      h('td', { className: base[name] !== current[name] ? 'changed' : '' }, String(show(current[name]))),
      h('td', {}, mine && name in mine ? String(show(mine[name])) : '')));
  $('#conflict-table tbody').replaceChildren(...rows);
  $('#conflict-table').classList.toggle('deleting', deleting);  // no "your change" column
  $('#conflict-apply').textContent = deleting ? 'Delete anyway' : 'Apply my change';
  $('#conflict-discard').textContent = deleting ? 'Keep it' : 'Discard my change';
  return new Promise((resolve) => {
    const answer = (apply) => () => {
      dialog.removeEventListener('cancel', discard);
      dialog.close();
      resolve(apply);
    };
    const discard = answer(false);
    $('#conflict-apply').onclick = answer(true);
    $('#conflict-discard').onclick = discard;
    dialog.addEventListener('cancel', discard);  // Escape
    dialog.showModal();
  });
}

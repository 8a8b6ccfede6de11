/**
 * Which kinds of notification the signed-in user gets (GET/PUT /api/notifications/preferences/): a box per
 * kind in the notifications panel, saved as soon as it changes. A PUT names only the kind changed; the
 * server answers with every kind, and keeps the others as they were.
 */
import { api } from './api.js';
import { $, h } from './dom.js';
import { toast } from './toast.js';

const PATH = '/api/notifications/preferences/';
export const KINDS = [
  ['assigned', 'Assigned to me'], ['updated', 'Changed'], ['unassigned', 'Unassigned'],
  ['deleted', 'Deleted'], ['due_soon', 'Due soon'], ['overdue', 'Overdue'],
];
const labelOf = (kind) => Object.fromEntries(KINDS)[kind] || kind;

const saved = {};  // kind → on or off, as the server last said
let queue = Promise.resolve();  // saves go one after another, so the server applies them in the user's order
let waiting = 0;

export function setUpPreferences() {
  $('#preference-kinds').replaceChildren(...KINDS.map(([kind, label]) => checkbox(kind, label)));
  const details = $('#preferences');
  details.addEventListener('toggle', () => { if (details.open) loadPreferences(); });
}

/** Folded away (the panel closed): the next opening reads them afresh, for whoever is signed in then. */
export function closePreferences() {
  $('#preferences').open = false;
}

function checkbox(kind, label) {
  const input = h('input', { type: 'checkbox', id: `pref-${kind}`, name: kind });
  input.addEventListener('change', () => enqueueSave(input));
  return h('div', { className: 'check' }, input, h('label', { for: `pref-${kind}` }, label));
}

async function loadPreferences() {
  const fieldset = $('#preferences fieldset');
  fieldset.disabled = true;
  for (const kind of Object.keys(saved)) delete saved[kind];  // perhaps another user's
  note('Loading…');
  try {
    const { data } = await api.get(PATH);
    Object.assign(saved, data);
    showSaved();
    fieldset.disabled = false;
    note('');
  } catch (error) {
    if (error.status === 401) return;  // the session-lost handler takes over
    note(error.status === 404 ? 'This server does not offer notification settings yet.'
      : `Your settings could not be read: ${error.message}`);
  }
}

function enqueueSave(input) {
  waiting += 1;
  $('#preferences fieldset').setAttribute('aria-busy', 'true');
  queue = queue.then(() => save(input)).finally(() => {
    waiting -= 1;
    if (waiting) return;
    // Every save answered: the boxes show what the server holds (a failed one goes back).
    showSaved();
    $('#preferences fieldset').setAttribute('aria-busy', 'false');
  });
}

async function save(input) {
  try {
    const { data } = await api.put(PATH, { [input.name]: input.checked });
    Object.assign(saved, data);
  } catch (error) {
    if (error.status !== 401) toast(`“${labelOf(input.name)}” was not saved: ${error.message}`, { kind: 'error' });
  }
}

function showSaved() {
  for (const [kind] of KINDS) {
    if (typeof saved[kind] === 'boolean') $(`#pref-${kind}`).checked = saved[kind];
  }
}

function note(text) {
  $('#preferences-note').textContent = text;
}

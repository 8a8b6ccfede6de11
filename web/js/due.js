/**
 * Overdue and due-soon cues, by the server's clock (clock.js), with the backend's own definition:
 * a task due on day D is due at the end of D in UTC (D+1 00:00 UTC); unless it is completed it is overdue
 * from that moment on, and due soon in the 24 hours before it.
 */
import { serverNow } from './clock.js';
import { h } from './dom.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const DUE_SOON_MS = DAY_MS;  // the backend's REMINDER_LEAD_HOURS default
const RECHECK_MS = 60 * 1000;  // a cue on screen turns from "due soon" to "overdue" at midnight UTC
const CUES = {
  overdue: { text: 'Overdue', title: (date) => `Overdue: was due by the end of ${date} (UTC)` },
  due_soon: { text: 'Due soon', title: (date) => `Due soon: by the end of ${date} (UTC)` },
};

/** The moment a YYYY-MM-DD due date falls due (ms since the epoch), or null for no or a malformed date. */
export function dueMoment(dueDate) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dueDate || '');
  if (!match) return null;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + 1);
}

/** 'overdue', 'due_soon' or null, for a task's due_date and status at `now`. */
export function dueState({ due_date: dueDate, status }, now = serverNow()) {
  const due = dueMoment(dueDate);
  if (due === null || status === 'completed') return null;
  if (now >= due) return 'overdue';
  if (now >= due - DUE_SOON_MS) return 'due_soon';
  return null;
}

/** The cue of one task: a span that renders itself, and is re-rendered as the server's clock moves on. */
export function dueCue(task) {
  const cue = h('span', { className: 'due-cue', dataset: { dueDate: task.due_date || '', status: task.status } });
  renderCue(cue);
  return cue;
}

function renderCue(cue) {
  const state = dueState({ due_date: cue.dataset.dueDate, status: cue.dataset.status });
  if (cue.dataset.state === (state || '')) return;
  cue.dataset.state = state || '';
  cue.className = state ? `due-cue due-${state.replace('_', '-')}` : 'due-cue';
  cue.textContent = state ? CUES[state].text : '';
  if (state) cue.title = CUES[state].title(cue.dataset.dueDate);
  else cue.removeAttribute('title');
}

let timer = null;

/** Keep every cue on screen current while the console stays open. */
export function keepDueCuesCurrent() {
  clearInterval(timer);
  timer = setInterval(() => { for (const cue of document.querySelectorAll('.due-cue')) renderCue(cue); }, RECHECK_MS);
}

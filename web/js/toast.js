/** Short messages in a polite live region: what changed and who changed it. */
import { $, h } from './dom.js';

const SHOW_MS = 6000;

export function toast(text, { kind = 'info' } = {}) {
  const item = h('div', { className: `toast toast-${kind}` },
    h('span', {}, text),
    h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '✕'));
  $('#toasts').append(item);
  setTimeout(() => item.remove(), SHOW_MS);
}

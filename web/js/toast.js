/** Short messages in a polite live region: what changed and who changed it. */
import { $, h } from './dom.js';

const SHOW_MS = 6000;
// At most this many at once, the oldest dropped first: a burst of changes never buries the page under toasts.
export const MAX_TOASTS = 3;

/**
 * Show `text` for a few seconds. A toast with the `key` of one still showing replaces it rather than adding
 * another (a notification pushed again as more edits fold into it).
 */
export function toast(text, { kind = 'info', key = null } = {}) {
  const box = $('#toasts');
  const item = h('div', { className: `toast toast-${kind}`, dataset: key === null ? {} : { key } },
    h('span', {}, text),
    h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '✕'));
  const earlier = key === null ? null : [...box.children].find((other) => other.dataset.key === String(key));
  earlier?.remove();
  box.append(item);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  setTimeout(() => item.remove(), SHOW_MS);
}

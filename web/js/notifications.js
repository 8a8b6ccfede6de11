/** The bell: unread count, a panel to read notifications, mark one or all read, and the user's settings. */
import { api, totalText } from './api.js';
import { $, h } from './dom.js';
import { closePreferences, setUpPreferences } from './preferences.js';
import { toast } from './toast.js';

const PANEL_SIZE = 30;
// Reads overlap when messages come in quick succession; an answer can overtake an earlier one, so only the
// answer to the latest read is drawn. A read is issued after the message that caused it, so it is as new.
let latestCountRead = 0;
let latestListRead = 0;
let listDrawn = 0;  // the latest read that has been answered (drawn, or failed)

export function setUpNotifications() {
  $('#bell').addEventListener('click', () => (panelOpen() ? closePanel() : openPanel()));
  $('#close-notifications').addEventListener('click', closePanel);
  $('#mark-all-read').addEventListener('click', markAllRead);
  $('#notifications-panel').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closePanel();
  });
  setUpPreferences();
}

const panelOpen = () => !$('#notifications-panel').hidden;

export async function refreshUnreadCount() {
  const read = ++latestCountRead;
  const { data } = await api.get('/api/notifications/unread-count/');
  if (read !== latestCountRead) return;
  const badge = $('#unread-count');
  badge.textContent = String(data.unread_count);
  badge.dataset.count = String(data.unread_count);
}

/**
 * A notification just arrived on the feed: count it, and show it if the panel is open. One with the id of an
 * item shown replaces it: more quick edits were folded into it (its `count`).
 */
export async function notificationArrived(notification) {
  const shown = notification && $(`#notification-list li[data-notification-id="${Number(notification.id)}"]`);
  if (shown) {
    const hadFocus = shown.contains(document.activeElement);
    const fresh = item(notification);
    shown.replaceWith(fresh);
    if (hadFocus) (fresh.querySelector('button') || $('#notifications-title')).focus();
  }
  await refreshUnreadCount();
  // A new one is read with the list; so is any while a read is on its way (its answer may predate this one).
  if (panelOpen() && (!shown || listDrawn !== latestListRead)) await renderList();
}

async function openPanel() {
  $('#notifications-panel').hidden = false;
  $('#bell').setAttribute('aria-expanded', 'true');
  await renderList();
  $('#notifications-title').setAttribute('tabindex', '-1');
  $('#notifications-title').focus();
}

/** Close the panel; focus goes back to the bell only if it was in the panel (not when a view link was used). */
export function closePanel() {
  if (!panelOpen()) return;
  const hadFocus = $('#notifications-panel').contains(document.activeElement);
  $('#notifications-panel').hidden = true;
  $('#bell').setAttribute('aria-expanded', 'false');
  closePreferences();
  if (hadFocus) $('#bell').focus();
}

async function renderList() {
  const read = ++latestListRead;
  let answer;
  try {
    answer = await api.get('/api/notifications/', { page_size: PANEL_SIZE });
  } finally {
    if (read === latestListRead) listDrawn = read;
  }
  if (read !== latestListRead) return;
  const { data, total, estimated } = answer;
  const list = $('#notification-list');
  list.replaceChildren(...data.map(item));
  if (!data.length) list.append(h('li', { className: 'empty' }, 'No notifications yet.'));
  if (total > data.length) list.append(h('li', { className: 'empty' }, `The ${data.length} newest of ${totalText(total, estimated)}.`));
}

function item(notification) {
  const markRead = h('button', {
    type: 'button', 'aria-label': `Mark read: ${notification.message}`, onclick: () => markOneRead(notification.id),
  }, 'Mark read');
  return h('li', { className: notification.is_read ? 'read' : 'unread', dataset: { notificationId: notification.id } },
    h('p', {}, notification.is_read ? '' : h('span', { className: 'visually-hidden' }, 'Unread: '), notification.message,
      foldedCount(notification.count)),
    h('time', { datetime: notification.created_at }, new Date(notification.created_at).toLocaleString()),
    notification.is_read ? null : markRead);
}

async function markOneRead(id) {
  try {
    await api.patch(`/api/notifications/${id}/`, { is_read: true });
  } catch (error) {
    toast(error.message, { kind: 'error' });
  }
  await Promise.all([refreshUnreadCount(), renderList()]);
  $('#notifications-title').focus();  // the button that had focus is gone
}

async function markAllRead() {
  try {
    await api.post('/api/notifications/mark-all-read/');
  } catch (error) {
    toast(error.message, { kind: 'error' });
  }
  await Promise.all([refreshUnreadCount(), renderList()]);
}

/** "×5" after a notification that stands for several quick edits (count > 1). */
function foldedCount(count) {
  if (!(count > 1)) return null;
  return h('span', { className: 'folded-count', title: `${count} changes in one notification` },
    h('span', { 'aria-hidden': 'true' }, `×${count}`), h('span', { className: 'visually-hidden' }, ` (${count} changes)`));
}

/** The bell: unread count, a panel to read notifications, mark one or all read. */
import { api } from './api.js';
import { $, h } from './dom.js';
import { toast } from './toast.js';

const PANEL_SIZE = 30;

export function setUpNotifications() {
  $('#bell').addEventListener('click', () => (panelOpen() ? closePanel() : openPanel()));
  $('#close-notifications').addEventListener('click', closePanel);
  $('#mark-all-read').addEventListener('click', markAllRead);
  $('#notifications-panel').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closePanel();
  });
}

const panelOpen = () => !$('#notifications-panel').hidden;

export async function refreshUnreadCount() {
  const { data } = await api.get('/api/notifications/unread-count/');
  const badge = $('#unread-count');
  badge.textContent = String(data.unread_count);
  badge.dataset.count = String(data.unread_count);
}

/** A notification just arrived on the feed: count it, and show it if the panel is open. */
export async function notificationArrived() {
  await refreshUnreadCount();
  if (panelOpen()) await renderList();
}

async function openPanel() {
  $('#notifications-panel').hidden = false;
  $('#bell').setAttribute('aria-expanded', 'true');
  await renderList();
  $('#notifications-title').setAttribute('tabindex', '-1');
  $('#notifications-title').focus();
}

export function closePanel() {
  if (!panelOpen()) return;
  $('#notifications-panel').hidden = true;
  $('#bell').setAttribute('aria-expanded', 'false');
  $('#bell').focus();
}

async function renderList() {
  const { data, total } = await api.get('/api/notifications/', { page_size: PANEL_SIZE });
  const list = $('#notification-list');
  list.replaceChildren(...data.map(item));
  if (!data.length) list.append(h('li', { className: 'empty' }, 'No notifications yet.'));
  if (total > data.length) list.append(h('li', { className: 'empty' }, `The ${data.length} newest of ${total}.`));
}

function item(notification) {
  const markRead = h('button', {
    type: 'button', 'aria-label': `Mark read: ${notification.message}`, onclick: () => markOneRead(notification.id),
  }, 'Mark read');
  return h('li', { className: notification.is_read ? 'read' : 'unread', dataset: { notificationId: notification.id } },
    h('p', {}, notification.is_read ? '' : h('span', { className: 'visually-hidden' }, 'Unread: '), notification.message),
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

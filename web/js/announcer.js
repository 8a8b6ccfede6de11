/**
 * Toasts for changes made elsewhere. A task message names no actor, but the notification the same
 * change causes does ("admin changed 'X': …"), a moment later. So a task toast waits briefly for
 * that notification and uses its words, or falls back to a neutral "Task 'X' updated".
 */
import { toast } from './toast.js';

const PAIRING_WINDOW_MS = 700;  // the notification follows the task event by a few hundred ms
const OWN_CHANGE_MS = 5000;

const pending = new Map();  // task id → timer of the neutral toast
const ownChanges = new Map();  // task id → when this tab changed it (no toast for our own change)
const VERBS = { task_created: 'created', task_updated: 'updated', task_deleted: 'deleted' };

export function noteOwnChange(taskId) {
  ownChanges.set(taskId, Date.now());
}

const isOwn = (taskId) => Date.now() - (ownChanges.get(taskId) || 0) < OWN_CHANGE_MS;

export function announceTaskUpdate(message) {
  const task = message.task || {};
  if (isOwn(task.id) || pending.has(task.id)) return;
  const verb = VERBS[message.action] || 'changed';
  pending.set(task.id, setTimeout(() => {
    pending.delete(task.id);
    toast(`Task ‘${task.title}’ ${verb}`);
  }, PAIRING_WINDOW_MS));
}

export function announceNotification(notification) {
  const timer = pending.get(notification.task_id);
  if (timer) {
    clearTimeout(timer);
    pending.delete(notification.task_id);
  }
  // Pushed again as more quick edits fold into it: the same toast, updated, not one more.
  const folded = notification.count > 1 ? ` (×${notification.count})` : '';
  toast(`${notification.message}${folded}`, { key: `notification-${notification.id}` });
}

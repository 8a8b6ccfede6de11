/**
 * The server's clock, read off the HTTP `Date` header of every API answer (api.js hands each one here).
 *
 * Due-date cues must agree with the backend's reminders, so they use the server's "now", not the browser's:
 * a laptop whose clock is a day off would otherwise call a task overdue that the server does not. The offset
 * between the two clocks is kept, so the server's time keeps moving between answers. `Date` has whole
 * seconds (RFC 9110), which is plenty for a cue that changes once a day.
 */

let offsetMs = 0;  // server time minus browser time, as of the last answer; 0 until one arrives

/** An answer's `Date` header value (an IMF-fixdate); anything unreadable is ignored. */
export function noteServerDate(header) {
  const serverMs = Date.parse(header || '');
  if (Number.isFinite(serverMs)) offsetMs = serverMs - Date.now();
}

/** The server's time now, in milliseconds since the epoch. */
export const serverNow = () => Date.now() + offsetMs;

/**
 * The live feed: one WebSocket to /ws/tasks/, reconnected with back-off, resuming where it left off.
 *
 * The relay's messages carry a cursor. The feed keeps the last one and reconnects with `&since=<cursor>`;
 * the relay replays what was published meanwhile before going live: no gap, no duplicate. So the caller
 * re-fetches only when told (onResync): at the first socket's hello, when there is no cursor yet, and on
 * `resync_required`, when the relay cannot serve the cursor. The cursor is kept in memory, one per
 * signed-in session: a new page load starts without one and fetches.
 *
 * Each socket opens with a fresh single-use ticket (POST /api/auth/ws-ticket/, valid 30 s) rather than the
 * token: a URL ends up in logs and histories, and a ticket found there has already been used.
 */

const TOKEN_REFUSED = 4401;  // no, bad, expired or revoked credential: signing in again is the only cure
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

export class LiveFeed {
  /**
   * onResync: the views may have missed events (the first hello, or a cursor the relay cannot serve): re-fetch.
   * onMessage(message): a parsed task_update or notification. onState(state): 'connecting' | 'live' | 'offline'.
   * onRefused: the server closed with 4401, or would not give a ticket (401).
   * getTicket(): a promise of a new ticket; it rejects with an error whose `status` is 401 when signed out.
   */
  constructor(getTicket, { onResync, onMessage, onState, onRefused }) {
    Object.assign(this, { getTicket, onResync, onMessage, onState, onRefused });
    this.socket = null;
    this.cursor = null;  // of the last message received that had one: where to resume
    this.failures = 0;
    this.timer = null;
    this.stopped = false;
    this.connecting = false;  // waiting for a ticket
    this.reconnectNow = () => { if (!this.socket) this.connect(); };
  }

  start() {
    // Coming back online or to the tab: no need to wait out the back-off.
    window.addEventListener('online', this.reconnectNow);
    document.addEventListener('visibilitychange', this.reconnectNow);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.reconnectNow);
    document.removeEventListener('visibilitychange', this.reconnectNow);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  async connect() {
    if (this.stopped || this.connecting) return;
    clearTimeout(this.timer);
    this.onState('connecting');
    let ticket;
    this.connecting = true;
    try {
      ticket = await this.getTicket();
    } catch (error) {
      if (error.status === 401) {
        this.stop();
        this.onRefused();
      } else if (!this.stopped) {
        this.onState('offline');
        this.scheduleReconnect();
      }
      return;
    } finally {
      this.connecting = false;
    }
    if (this.stopped) return;
    const socket = new WebSocket(this.url(ticket));
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.failures = 0;
      this.onState('live');
    });
    socket.addEventListener('message', (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.received(message);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (event.code === TOKEN_REFUSED) {
        this.stop();
        this.onRefused();
        return;
      }
      this.onState('offline');
      this.scheduleReconnect();
    });
  }

  url(ticket) {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Browsers cannot set headers on a WebSocket: the single-use ticket rides in the query (no log keeps it).
    const since = this.cursor === null ? '' : `&since=${encodeURIComponent(this.cursor)}`;
    return `${scheme}//${window.location.host}/ws/tasks/?ticket=${encodeURIComponent(ticket)}${since}`;
  }

  received(message) {
    const resuming = this.cursor !== null;
    if (typeof message.cursor === 'string') this.cursor = message.cursor;
    if (message.type === 'hello') {
      // The first socket's events start at its hello: what the views fetched before may be behind it.
      if (!resuming) this.onResync();
    } else if (message.type === 'resync_required') {
      this.onResync();
    } else if (message.type !== 'cursor') {  // a cursor message only moves the cursor
      this.onMessage(message);
    }
  }

  scheduleReconnect() {
    // Exponential back-off with jitter, so a restarted relay is not hit by every client at once.
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures);
    this.failures += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

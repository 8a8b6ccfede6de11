/** The live feed: one WebSocket to /ws/tasks/, reconnected with back-off; the caller re-fetches on every (re)open. */

const TOKEN_REFUSED = 4401;  // no, bad, expired or revoked token: signing in again is the only cure
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

export class LiveFeed {
  /**
   * onOpen: the socket is (re)connected; events missed meanwhile are not replayed, so re-fetch.
   * onMessage(message): a parsed feed message. onState(state): 'connecting' | 'live' | 'offline'.
   * onRefused: the server closed with 4401.
   */
  constructor(token, { onOpen, onMessage, onState, onRefused }) {
    Object.assign(this, { token, onOpen, onMessage, onState, onRefused });
    this.socket = null;
    this.failures = 0;
    this.timer = null;
    this.stopped = false;
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

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.onState('connecting');
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Browsers cannot set headers on a WebSocket, so the token rides in the query (the gateway does not log it).
    const url = `${scheme}//${window.location.host}/ws/tasks/?token=${encodeURIComponent(this.token)}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.failures = 0;
      this.onState('live');
      this.onOpen();
    });
    socket.addEventListener('message', (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.onMessage(message);
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

  scheduleReconnect() {
    // Exponential back-off with jitter, so a restarted relay is not hit by every client at once.
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures);
    this.failures += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

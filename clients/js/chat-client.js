/**
 * ChatClient: the Parley protocol v1 (docs/PROTOCOL.md) over HTTP + WebSocket, without any UI.
 *
 * The package parley-client (clients/js: README.md, index.d.ts for the types, examples/). One file of
 * over 900 lines on purpose: the server serves this very file to browsers at /chat-client.js (the
 * web client's app.js imports it), and docs/WEB_CLIENT.md promises a client any page can load with
 * one script tag, no build step and no dependency.
 *
 *   const client = new ChatClient();              // same origin; or new ChatClient('https://host')
 *   // Node 20 (no WebSocket of its own): new ChatClient('http://host:8080', { WebSocket }),
 *   // with `import WebSocket from 'ws'`; Node 22 and browsers need no option.
 *   await client.login('alice', 'secret-pass');   // or client.setAuth({token, username, expiresAt})
 *   // A page of the server's origin: new ChatClient(undefined, {session: 'cookie'}), then
 *   // login(), or resume() after a reload: see "Sessions" below.
 *   client.on('message', ({room, message}) => …);
 *   client.connect();
 *   client.join('general');
 *   client.send('general', 'hello');
 *
 * Delivery model: every joined room keeps `lastSeq`, the highest seq handed to the app. Newer
 * messages (live, replayed after a reconnect, or fetched to fill a gap) come out as `message`
 * events strictly in seq order, each exactly once. Older pages (the first screen after a join,
 * then `loadOlder`) come out as `history` events and are always below everything seen so far.
 *
 * Events (CustomEvent; the payload is `event.detail`, or the first argument of an `on` handler):
 *   state        {state: 'connecting'|'open'|'reconnecting'|'closed', code?, delay?}
 *   message      {room, message: {room, seq, id, from, text, ts, clientId, mentions, event?}, pending, local}
 *                mentions: whom the text mentions ([] if nobody; PROTOCOL.md "Mentions");
 *                pending: the optimistic copy of our own send (seq and id are null);
 *                local: the message was sent by this client (its pending copy exists);
 *                message.event: set on a room event (PROTOCOL.md "Room events"): {type, user?, by?, ...};
 *                its `text` says it in English
 *   ack          {room, clientId, seq, id, ts, earlier}
 *                earlier: the message was stored before this client joined (re-sent after a
 *                reload); no echo follows, and it belongs among the older messages
 *   sendfailed   {room, clientId, code, message}   kept (see failedMessages) until retry() or discard()
 *   joined       {room, lastSeq, online, members, recovered, resumed, readSeq, unread, mentions, historyStart}
 *                readSeq, unread, mentions: the user's read marker and the counts after it, as of lastSeq
 *   read         {room, readSeq, lastSeq, unread, mentions}   the user's marker moved (a markRead here, or
 *                another tab or device); never an older one than the last (PROTOCOL.md "Read state")
 *   left         {room, reason?}   reason (removed | banned | left | room_deleted) when the server took
 *                the connection out of the room; the room is forgotten and not joined again on reconnect
 *   history      {room, messages, hasMore, initial, historyStart}
 *                (historyStart: the seq the room's history starts at, 1 unless its retention removed older ones)
 *   presence     {room, user, status, online, members}
 *                in a big room (PROTOCOL.md "Presence in big rooms") one per presence_summary frame:
 *                status 'summary', no user, and joined / left, the names it added and removed
 *   typing       {room, user}
 *   pong         {}
 *   error        {code, message, ref?, room?, frame?}   frame: the type of the frame it answers
 *   unauthorized {reason}   the token is expired, rejected or revoked (reason: token_expired | http_401 | session_revoked
 *                | session_replaced: the cookie is now another user's, signed in in another tab); the client has stopped
 *   limits       {limits}   the server's limits arrived (see `limits` and `loadLimits`)
 *
 * Rooms and members (PROTOCOL.md 3.3), each a Promise; a refusal rejects with an Error carrying
 * `status` (HTTP) and `code` (PROTOCOL.md 8):
 *   rooms({kind, prefix})   every room the caller may see, all pages (following Link rel="next"); a page
 *                           that has not changed since the last call comes back as a 304 (its ETag)
 *   room(name), createRoom({name, visibility, topic}), openDirect(user), deleteRoom(name)
 *   roomMembers(room)       every member, all pages: [{user, role, mutedUntil}]
 *   setMember(room, user, {role?, mutedUntil?})   invite ({}), change a role, mute, unmute
 *   removeMember(room, user)   remove, or leave when user is oneself
 *   ban(room, user, {reason?, until?}), unban(room, user), bans(room)
 *   drop(room)              forget a room the server has taken this user out of, without a frame
 *
 * Sessions (PROTOCOL.md 3.2, 4, 5). By default the client holds the bearer token it is given (login,
 * register, setAuth) and nothing else. With {session: 'cookie'}, for a page served by the server
 * itself, it signs in for a browser session: the server keeps a refresh token in an HttpOnly cookie
 * no script can read, and the client holds only a short access token, in memory, which it renews
 * through the cookie before it expires (and sends to the open connection in a `refresh` frame), and
 * after a 401 or a close with 4001; resume() picks the session up again after a reload. Either way,
 * every WebSocket is opened with a single-use ticket (POST /api/auth/ticket): no token is ever put in
 * a URL.
 *
 * Limits: the client keeps to the server's own (GET /api/limits, PROTOCOL.md 3.5): the send rate
 * and burst, the frame size, the text length and the room-name rule. It asks for them on
 * connect() (or loadLimits()); until they arrive, or if the server does not answer, it keeps to
 * the defaults and leaves the room-name check to the server.
 */

/** The server's defaults (PROTOCOL.md 14), kept to until the server says otherwise. */
export const DEFAULT_LIMITS = Object.freeze({
  sendRate: 20,
  sendBurst: 40,
  typingRate: 5,
  maxFrameBytes: 16 * 1024,
  maxTextLength: 4000,
  clientIdMaxLength: 64,
  roomPattern: '^(?:[a-z0-9][a-z0-9_-]{0,63})$',
  roomNameMaxLength: 64,
  usernamePattern: '^(?:[A-Za-z0-9_.-]{3,32})$',
  passwordMinLength: 8,
  passwordMaxLength: 128,
  historyLimitDefault: 50,
  historyLimitMax: 100,
  replayLimit: 1000,
});

/** The default room-name rule; a server may have another (ChatClient.isValidRoomName knows it). */
export const ROOM_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

// Reconnecting follows PROTOCOL.md 10, the rule of every client Parley ships ("full jitter"): attempt n
// waits a random time in [0, min(30 s, 1 s x 2^n)), so that the clients of a node that went down come
// back spread over a second, and over twice as long each time the node cannot take them all; n starts
// again once a connection has lasted 10 s (a connection closed soon after opening, by 4002 for
// example, is a failure too). Where the server said to stay away (4029, 1008) the wait starts there.
// (A browser cannot see the Retry-After of a refused upgrade; the doubling stands in for it.)
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
const BACKOFF_FLOOR_MS = { 4029: 30_000, 1008: 60_000 }; // the server asked us to go away for a while
// Closes after which the same would happen again (PROTOCOL.md 10): 1002, the WebSocket library broke
// the framing; 1009, a frame over the server's limit. The client stays closed (state 'closed' with
// the code) until connect() is called again. (4003 and 4001 end the session: see _onClose.)
const FINAL_CLOSE_CODES = new Set([1002, 1009]);
const STABLE_AFTER_MS = 10_000; // only a connection that lasts this long resets the backoff
const HEARTBEAT_MS = 25_000;
const TYPING_EVERY_MS = 2_000;
const MAX_REFS = 1_000;
const LIMITS_TIMEOUT_MS = 3_000;
// An access token is renewed this long before it expires (a fifth of its life at most), so that a
// slow answer still comes in time; a renewal that fails is tried again after RENEW_RETRY_MS.
const RENEW_MARGIN_MS = 60_000;
const RENEW_RETRY_MS = 5_000;
// Sends are paced to the server's limit (its burst, then its rate), so a queue flushed after a
// reconnect, or a pasted burst, is not refused. With a margin: one token of the burst is kept in
// reserve and the pace is a tenth under the rate, because the server counts from when it reads
// each send, and a burst it reads late (its event loop busy) makes the next send look early. If
// the server refuses one all the same, it waits and goes again, and the pace halves.
// Each room has at most one send on the wire: the next goes once the server has answered it (see _pump).
const PACE = 0.9;
const burstOf = (limits) => Math.max(1, limits.sendBurst - 1);
const RATE_LIMITED_WAIT_MS = 1_000;
// The largest `ref` this client writes, for measuring a frame before it is sent.
const LONGEST_REF = 'history-000000000000';

/** A server pattern as a RegExp, with the `u` flag where it compiles (a character is a code point, as on the server); null if it does not. */
function compilePattern(source) {
  for (const flags of ['u', '']) {
    try { return new RegExp(source, flags); } catch { /* Java syntax JavaScript lacks */ }
  }
  return null;
}

/** The server's answer, field by field over the defaults; a field of the wrong type keeps its default. */
function mergeLimits(raw) {
  const out = { ...DEFAULT_LIMITS };
  if (!raw || typeof raw !== 'object') return out;
  for (const [k, v] of Object.entries(DEFAULT_LIMITS)) {
    const got = raw[k];
    if (typeof v === 'number' ? typeof got === 'number' && Number.isFinite(got) && got > 0 : typeof got === 'string') out[k] = got;
  }
  return out;
}

/** Milliseconds since the epoch at which a session ends (Infinity if unknown). */
export function expiryMillis(expiresAt, token) {
  if (typeof expiresAt === 'number' && Number.isFinite(expiresAt)) {
    return expiresAt < 1e12 ? expiresAt * 1000 : expiresAt; // seconds or milliseconds
  }
  if (typeof expiresAt === 'string' && expiresAt) {
    if (/^\d+$/.test(expiresAt)) return expiryMillis(Number(expiresAt));
    const t = Date.parse(expiresAt);
    if (!Number.isNaN(t)) return t;
  }
  try {
    const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (typeof claims.exp === 'number') return claims.exp * 1000;
  } catch { /* not a readable JWT */ }
  return Infinity;
}

/**
 * How long a token lives from its issue, by its own claims (both the server's clock), so that a
 * browser whose clock is off still renews in time; null if the token does not say.
 */
function lifetimeMillis(token) {
  try {
    const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (typeof claims.exp === 'number' && typeof claims.iat === 'number' && claims.exp > claims.iat) return (claims.exp - claims.iat) * 1000;
  } catch { /* not a readable JWT */ }
  return null;
}

function apiError(status, code, message) {
  const err = new Error(message);
  err.status = status;
  err.code = code;
  return err;
}

// crypto.randomUUID only exists in secure contexts; plain-http deployments still need ids.
function uuid() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const utf8 = new TextEncoder();

function toMessage(m, room) {
  const out = { room: m.room ?? room, seq: m.seq, id: m.id ?? null, from: m.from, text: m.text, ts: m.ts, clientId: m.clientId ?? null };
  if (m.event && typeof m.event === 'object' && typeof m.event.type === 'string') out.event = { ...m.event };
  // A reply, and what changed the message since it was sent (PROTOCOL.md, changes of a message).
  if (Number.isInteger(m.replyTo)) out.replyTo = m.replyTo;
  if (m.bot === true) out.bot = true; // sent by a bot account (PROTOCOL.md, server API and bots)
  if (typeof m.editedAt === 'string') out.editedAt = m.editedAt;
  if (m.deleted === true) out.deleted = true;
  if (Array.isArray(m.reactions)) out.reactions = m.reactions.filter((r) => r && typeof r.emoji === 'string').map((r) => ({ emoji: r.emoji, count: Number(r.count) || 0, users: Array.isArray(r.users) ? r.users.filter((u) => typeof u === 'string') : [] }));
  if (Number.isInteger(m.lastChange)) out.lastChange = m.lastChange;
  out.mentions = Array.isArray(m.mentions) ? m.mentions.filter((u) => typeof u === 'string') : [];
  return out;
}

// A room event that takes this user out of the room, and the `left` reason it comes with.
const GONE_REASONS = { member_removed: 'removed', banned: 'banned', member_left: 'left', room_deleted: 'room_deleted' };
const MAX_PAGES = 200; // a Link that never ends (a broken proxy) must not keep the client paging forever

/** The target of a `Link: <...>; rel="next"` header, or null. */
export function nextLink(header) {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(m[2])) return m[1];
  }
  return null;
}

const seg = (s) => encodeURIComponent(s);

/** The read state fields of a `joined` or `read` frame, or of a listed room: {readSeq, unread, mentions}. */
export function readState(f) {
  const count = (n) => (Number.isInteger(n) && n > 0 ? n : 0);
  return { readSeq: Number.isInteger(f?.readSeq) ? f.readSeq : null, unread: count(f?.unread), mentions: count(f?.mentions) };
}

/** The least time between two `read` frames of one room (the server allows 2 a second after a burst). */
const READ_EVERY_MS = 1_000;

function newRoom(name) {
  return {
    name,
    ready: false,       // `joined` received on the current connection
    lastSeq: null,      // null until the first `joined`
    lowestSeq: null,    // lowest seq handed out (older pages go below it)
    hasOlder: false,
    loadingOlder: false,
    loadedOlder: false, // the first older page is the "initial" one
    buffer: new Map(),  // seq -> message that arrived ahead of a gap
    target: 0,          // a seq we know exists and must reach
    catchingUp: false,
    members: new Set(),
    online: null,
    typingAt: 0,
    gone: null,         // the `left` reason of a room event that took us out, until `left` itself comes
    liveAfter: 0,       // lastSeq of the latest `joined`: what comes after it happened since that join
    readSeq: null,      // the user's read marker as the server last told it (joined, read)
    readWant: 0,        // the highest seq markRead was asked for
    readAt: 0,          // when the last `read` frame went
    readTimer: null,
  };
}

export class ChatClient extends EventTarget {
  /**
   * @param {string} [baseUrl] origin of the server (default: this page's origin)
   * @param {object} [options] {WebSocket, fetch} to inject implementations (tests, Node);
   *                           {token, username, expiresAt} to start with a session;
   *                           {session: 'cookie'} to sign in for a browser session (see "Sessions" above);
   *                           {storage} a Web Storage (the page passes sessionStorage) in which
   *                           unacknowledged sends outlive a reload of the page
   */
  constructor(baseUrl, options = {}) {
    super();
    this.baseUrl = String(baseUrl ?? globalThis.location?.origin ?? '').replace(/\/+$/, '');
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.token = null;
    this.username = null;
    this.expiresAt = null;
    this.sessionExpiresAt = null; // a browser session's end (cookie sessions only)
    this._cookieSession = options.session === 'cookie';
    this._renewing = null;     // the refresh under way, shared by whoever needs a fresh token
    this._opening = 0;         // a ticket is being fetched for this attempt to connect (0: none)
    this._openSeq = 0;
    this._state = 'closed';
    this._rooms = new Map();
    this._leaving = new Set();
    this._unacked = new Map(); // clientId -> {room, text, clientId, ts}: re-sent after every (re)join
    this._failed = new Map();
    this._storage = options.storage ?? null;
    this._restored = [];       // unsent entries read from storage, taken up as their rooms are joined
    this._sent = new Set();    // clientIds this client created, to recognise our own echoes
    this._refs = new Map();    // ref -> {type, room, clientId}
    this._refSeq = 0;
    this._ws = null;
    this._stopped = true;
    this._attempt = 0;
    this._everOpened = false;
    this._unauthorizedSent = false;
    this._timers = { retry: null, stable: null, heartbeat: null, pace: null, renew: null };
    this._onWire = new Map();  // room -> clientId of its send on this connection, not answered yet
    this._holdUntil = 0;       // after a send refused for the rate, nothing goes before this (Date.now())
    this.limits = { ...DEFAULT_LIMITS };
    this._limitsLoaded = false;
    this._limitsPromise = null;
    this._roomRe = null;       // the server's room-name rule, once known and compilable
    this._sendTokens = burstOf(this.limits);
    this._sendRate = this.limits.sendRate * PACE;
    this._tokensAt = Date.now();
    this._lastRx = 0;
    this._pingAt = 0;
    this._wake = () => { if (!this._stopped && !this._ws && !this._opening) this._open(); };
    if (options.token) this.setAuth(options);
  }

  // --- state --------------------------------------------------------------------------

  get state() { return this._state; }
  get joinedRooms() { return [...this._rooms.keys()]; }
  isJoined(room) { return this._rooms.has(room); }
  isReady(room) { return !!this._rooms.get(room)?.ready; }
  members(room) { return [...(this._rooms.get(room)?.members ?? [])]; }
  online(room) { return this._rooms.get(room)?.online ?? null; }
  lastSeq(room) { return this._rooms.get(room)?.lastSeq ?? null; }
  hasOlder(room) { return !!this._rooms.get(room)?.hasOlder; }
  pendingMessages() { return [...this._unacked.values()].map((e) => ({ ...e })); }
  get limitsLoaded() { return this._limitsLoaded; }

  /** Whether the server's rule admits `room`; true while that rule is unknown (the server judges then). */
  isValidRoomName(room) {
    if (typeof room !== 'string' || !room) return false;
    return this._roomRe ? this._roomRe.test(room) : true;
  }
  failedMessages() { return [...this._failed.values()].map((e) => ({ ...e })); }

  /** addEventListener that hands `detail` to the handler; returns an unsubscribe function. */
  on(type, handler) {
    const listener = (ev) => handler(ev.detail, ev);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  setAuth({ token, username, expiresAt, sessionExpiresAt }) {
    const sameUser = username === this.username;
    this.token = token;
    this.username = username;
    this.expiresAt = expiresAt ?? null;
    this.sessionExpiresAt = sessionExpiresAt ?? null;
    this._unauthorizedSent = false;
    if (!sameUser) {
      this._restored = this._readUnsent();
      this._listed = new Map();
    }
    this._scheduleRenew();
  }

  // --- HTTP ---------------------------------------------------------------------------

  register(username, password) { return this._auth('/api/auth/register', username, password); }
  login(username, password) { return this._auth('/api/auth/login', username, password); }

  /**
   * Picks up the browser session of the cookie, after a reload or in a new tab (cookie sessions
   * only): resolves to the session ({token, username, expiresAt, sessionExpiresAt}), or to null when
   * there is none (never signed in, logged out, expired or revoked). Rejects (status 0) when the
   * server cannot be reached: the session may still be there.
   */
  async resume() {
    if (!this._cookieSession) return null;
    const data = await this._refreshSession();
    if (!data) return null;
    this.setAuth(data);
    return data;
  }
  /**
   * Renews the access token through the cookie now (cookie sessions), and gives it to the open
   * connection. Resolves to true when renewed: `sessionExpiresAt` then says when the session ends,
   * later than before if the cookie is a newer session's (signed in again in another tab); false when
   * the session is over (the client has stopped and said `unauthorized`) or the server could not be
   * reached.
   */
  renew() { return this._renew(); }

  /**
   * Every room the caller may see (PROTOCOL.md 3.3), sorted by name: the pages of GET /api/rooms,
   * following each answer's Link rel="next" until there is none. Optional filters: kind, prefix.
   */
  async rooms({ kind, prefix } = {}) {
    const q = new URLSearchParams();
    if (kind) q.set('kind', kind);
    if (prefix) q.set('prefix', prefix);
    let path = `/api/rooms${q.toString() ? `?${q}` : ''}`;
    const all = [];
    const seen = new Set();
    this._listed ??= new Map();
    for (let page = 0; path && page < MAX_PAGES && !seen.has(path); page++) {
      seen.add(path);
      // The page as last seen, if any: the server answers 304 when it has not changed (PROTOCOL.md 3.3).
      const known = this._listed.get(path);
      const { data, headers, notModified } = await this._exchange('GET', path, undefined, true, known?.etag);
      const got = notModified && known ? known : { etag: headers?.get('ETag') ?? null, data, link: headers?.get('Link') ?? null };
      if (got.etag) this._listed.set(path, got); else this._listed.delete(path);
      if (Array.isArray(got.data)) all.push(...got.data);
      path = this._samePath(nextLink(got.link));
    }
    return all;
  }

  /** A Link target as a path on this server (a relative one, or an absolute one of this origin); null otherwise. */
  _samePath(link) {
    if (!link) return null;
    try {
      const base = this.baseUrl || globalThis.location?.origin;
      const url = new URL(link, `${base}/api/rooms`);
      if (url.origin !== new URL(`${base}/`).origin) return null;
      return url.pathname + url.search;
    } catch {
      return null;
    }
  }

  room(name) { return this._request('GET', `/api/rooms/${seg(name)}`); }

  /** Makes a room the caller owns: {name, visibility: 'public'|'private', topic?}; resolves to the room as listed. */
  createRoom({ name, visibility = 'public', topic } = {}) {
    const body = { name, visibility };
    if (topic) body.topic = topic;
    return this._request('POST', '/api/rooms', body);
  }

  /** The direct room of the caller and `user` (made the first time): the room as listed, with `with`. */
  openDirect(user) { return this._request('POST', '/api/dms', { user }); }

  deleteRoom(name) { return this._request('DELETE', `/api/rooms/${seg(name)}`); }

  /** Every member of a room with their role, all pages: [{user, role, mutedUntil}]. */
  async roomMembers(room) {
    const all = [];
    let cursor = null;
    const seen = new Set();
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = cursor ? `?cursor=${seg(cursor)}` : '';
      const data = await this._request('GET', `/api/rooms/${seg(room)}/members${q}`);
      if (Array.isArray(data?.members)) all.push(...data.members);
      cursor = typeof data?.next === 'string' && data.next && !seen.has(data.next) ? data.next : null;
      if (!cursor) break;
      seen.add(cursor);
    }
    return all;
  }

  /** Adds `user` ({} invites them as a member) or changes their role or mute: {role?, mutedUntil?}. */
  setMember(room, user, changes = {}) { return this._request('PUT', `/api/rooms/${seg(room)}/members/${seg(user)}`, changes); }

  /** Removes `user` from the room, or leaves it when `user` is the caller. */
  removeMember(room, user) { return this._request('DELETE', `/api/rooms/${seg(room)}/members/${seg(user)}`); }

  ban(room, user, { reason, until } = {}) {
    const body = {};
    if (reason) body.reason = reason;
    if (until) body.until = until;
    return this._request('PUT', `/api/rooms/${seg(room)}/bans/${seg(user)}`, body);
  }

  unban(room, user) { return this._request('DELETE', `/api/rooms/${seg(room)}/bans/${seg(user)}`); }

  /** The room's bans (moderators and up): [{user, by, reason, until, at}], every page of them. */
  async bans(room) {
    const all = [];
    let cursor = null;
    do {
      const query = cursor == null ? '?limit=500' : `?limit=500&cursor=${encodeURIComponent(cursor)}`;
      const data = await this._request('GET', `/api/rooms/${seg(room)}/bans${query}`);
      if (Array.isArray(data?.bans)) all.push(...data.bans);
      cursor = typeof data?.next === 'string' ? data.next : null;
    } while (cursor != null);
    return all;
  }

  /**
   * Asks the server for its limits (GET /api/limits, no token needed) and keeps to them from then
   * on. Resolves to `limits` whatever happens: if the server does not answer within a few seconds,
   * or answers with an error (an older server), the defaults stay and a later call asks again.
   */
  loadLimits() {
    if (this._limitsLoaded) return Promise.resolve(this.limits);
    this._limitsPromise ??= this._fetchLimits().finally(() => { this._limitsPromise = null; });
    return this._limitsPromise;
  }

  async _fetchLimits() {
    const timeout = typeof AbortSignal?.timeout === 'function' ? AbortSignal.timeout(LIMITS_TIMEOUT_MS) : undefined;
    try {
      const res = await this._fetch(`${this.baseUrl}/api/limits`, { headers: { Accept: 'application/json' }, signal: timeout });
      if (!res.ok) return this.limits;
      this._applyLimits(mergeLimits(await res.json()));
    } catch { /* unreachable, or not JSON: the defaults stay */ }
    return this.limits;
  }

  _applyLimits(limits) {
    this.limits = limits;
    this._limitsLoaded = true;
    this._roomRe = compilePattern(limits.roomPattern);
    this._sendRate = limits.sendRate * PACE;
    this._sendTokens = Math.min(this._sendTokens, burstOf(limits));
    this._emit('limits', { limits: { ...limits } });
  }

  /**
   * One page of who is online in a room: {room, users, next}. Without `limit` a page holds up to
   * 1000; pass the answer's `next` as `cursor` for the next page.
   */
  presence(room, { limit, cursor } = {}) {
    const q = new URLSearchParams();
    if (limit != null) q.set('limit', String(limit));
    if (cursor != null) q.set('cursor', cursor);
    const query = q.toString();
    return this._request('GET', `/api/rooms/${encodeURIComponent(room)}/presence${query ? '?' + query : ''}`);
  }

  /** One page of a room's messages, ascending: {room, messages, hasMore}. */
  history(room, { before, after, limit } = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ before, after, limit })) if (v != null) q.set(k, String(v));
    const qs = q.toString();
    return this._request('GET', `/api/rooms/${encodeURIComponent(room)}/messages${qs ? `?${qs}` : ''}`);
  }

  /**
   * Revokes this session's token on the server (PROTOCOL.md 3.2), or with `all` every token of the
   * user, on every device; their connections close with 4003. The token is read at once, so the
   * session may be forgotten (logout()) right after the call. A token already refused (401) counts
   * as revoked.
   */
  async revoke({ all = false } = {}) {
    const token = this.token;
    if (!token && !this._cookieSession) return;
    const logout = (bearer) => this._fetch(`${this.baseUrl}/api/auth/logout`, {
      method: 'POST', keepalive: true, body: JSON.stringify({ all }),
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
    });
    let res;
    try {
      // A cookie session is ended by its cookie, which the server then clears, whether or not the
      // access token is still good; by the token when the cookie is gone.
      res = await logout(this._cookieSession ? null : token);
      if (this._cookieSession && res.status === 401 && token) res = await logout(token);
    } catch {
      throw apiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
    }
    if (res.ok || res.status === 401) return;
    const data = await res.json().catch(() => null);
    throw apiError(res.status, data?.error ?? `http_${res.status}`, data?.message ?? `Request failed (HTTP ${res.status})`);
  }

  async _auth(path, username, password) {
    const body = this._cookieSession ? { username, password, session: 'cookie' } : { username, password };
    const data = await this._request('POST', path, body, false);
    this.setAuth({ token: data.token, username: data.username ?? username, expiresAt: data.expiresAt, sessionExpiresAt: data.sessionExpiresAt });
    return data;
  }

  /**
   * POST /api/auth/refresh: the cookie's session with a fresh access token, or null when the server
   * says there is none (401); rejects (status 0) when it cannot be reached.
   */
  async _refreshSession() {
    let res;
    try {
      res = await this._fetch(`${this.baseUrl}/api/auth/refresh`, {
        method: 'POST', credentials: 'same-origin', body: '{}',
        // JSON, which a page of another site cannot send here without asking: the server takes nothing else.
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      });
    } catch {
      throw apiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
    }
    if (res.status === 401) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok || typeof data?.token !== 'string') {
      throw apiError(res.status, data?.error ?? `http_${res.status}`, data?.message ?? `Request failed (HTTP ${res.status})`);
    }
    return data;
  }

  /**
   * A fresh access token through the cookie, given to the open connection too (`refresh` frame).
   * One at a time: whoever asks meanwhile waits for the same answer. Resolves to true when renewed;
   * false when the session is over (the client has stopped and said `unauthorized`) or the server
   * could not be reached (tried again later).
   */
  _renew() {
    if (!this._cookieSession || !this.username) return Promise.resolve(false);
    this._renewing ??= this._refreshSession().then((data) => {
      if (!this.username) return false; // logged out meanwhile
      if (!data) { this._unauthorized('http_401'); return false; }
      if (data.username !== this.username) { this._unauthorized('session_replaced'); return false; }
      this.setAuth(data);
      this._frame({ type: 'refresh', token: data.token }, {});
      return true;
    }, () => {
      if (this.username) this._scheduleRenew(RENEW_RETRY_MS);
      return false;
    }).finally(() => { this._renewing = null; });
    return this._renewing;
  }

  /** Renews the access token before it expires (cookie sessions), unless the session ends with it. */
  _scheduleRenew(delay) {
    clearTimeout(this._timers.renew);
    this._timers.renew = null;
    if (!this._cookieSession || !this.token) return;
    const accessEnd = expiryMillis(this.expiresAt, this.token);
    if (expiryMillis(this.sessionExpiresAt, null) <= accessEnd) return; // nothing longer to renew to
    if (delay === undefined) {
      const life = lifetimeMillis(this.token) ?? Math.max(0, accessEnd - Date.now());
      delay = life - Math.min(RENEW_MARGIN_MS, life / 5);
    }
    this._timers.renew = setTimeout(() => { this._timers.renew = null; this._renew(); }, Math.max(1_000, Math.min(delay, 2 ** 31 - 1)));
  }

  async _request(method, path, body, withToken = true) {
    return (await this._exchange(method, path, body, withToken)).data;
  }

  /**
   * One HTTP exchange: resolves to {data, headers} on success ({notModified: true} for a 304 to
   * `etag`), rejects with an Error ({status, code}) otherwise. In a cookie session a 401 (the access
   * token expired, say while the laptop slept) is answered by renewing it through the cookie, once,
   * and asking again.
   */
  async _exchange(method, path, body, withToken = true, etag = null, renewed = false) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (withToken && this.token) headers.Authorization = `Bearer ${this.token}`;
    if (etag) headers['If-None-Match'] = etag;
    let res;
    try {
      res = await this._fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw apiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
    }
    if (withToken && res.status === 401 && this._cookieSession && !renewed && this.username) {
      if (await this._renew()) return this._exchange(method, path, body, withToken, etag, true);
      // Not renewed: the session is over (the client has stopped and said so), or the server could
      // not be reached just now, which is no reason to sign out.
      throw apiError(401, 'unauthorized', 'The session could not be renewed.');
    }
    if (res.status === 304) return { data: null, headers: res.headers, notModified: true };
    const text = await res.text().catch(() => '');
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { /* an HTML error page from a proxy */ }
    if (res.ok) return { data, headers: res.headers };
    if (withToken && res.status === 401) this._unauthorized('http_401');
    throw apiError(res.status, data?.error ?? `http_${res.status}`, data?.message ?? (res.statusText || `Request failed (HTTP ${res.status})`));
  }

  // --- connection ---------------------------------------------------------------------

  connect() {
    if (!this.token) throw new Error('ChatClient.connect(): log in or setAuth() first');
    this._stopped = false;
    globalThis.addEventListener?.('online', this._wake);
    this.loadLimits();
    this._scheduleRenew();
    if (!this._ws && !this._opening) this._open();
  }

  /** Closes the socket and stops reconnecting; rooms and unsent messages are kept. */
  close() {
    this._halt();
  }

  /** close(), saying why in the 'closed' state's detail (a close code the server ended with). */
  _halt(detail = {}) {
    this._stopped = true;
    this._opening = 0; // a ticket on its way opens nothing
    this._clearTimers();
    globalThis.removeEventListener?.('online', this._wake);
    const ws = this._ws;
    this._ws = null;
    this._onWire.clear(); // whatever was on the wire goes again, in its place, on the next connection
    for (const r of this._rooms.values()) { r.ready = false; r.loadingOlder = false; }
    if (ws) try { ws.close(1000, 'bye'); } catch { /* already closing */ }
    this._setState('closed', detail);
  }

  /**
   * close() and forget everything about the session. With `keepUnsent` the unacknowledged sends
   * stay in `storage`, to go out when the same user signs in again in this tab (a session that expired).
   */
  logout({ keepUnsent = false } = {}) {
    this.close();
    clearTimeout(this._timers.pace);
    this._timers.pace = null;
    this._unacked.clear();
    this._failed.clear();
    this._restored = [];
    if (!keepUnsent) this._saveUnsent(); // nothing left: removes the stored list
    this._rooms.clear();
    this._leaving.clear();
    this._sent.clear();
    this._refs.clear();
    this.token = this.username = this.expiresAt = this.sessionExpiresAt = null;
    clearTimeout(this._timers.renew);
    this._timers.renew = null;
    this._everOpened = false;
    this._attempt = 0;
  }

  /** The WebSocket's URL with a single-use ticket (PROTOCOL.md 5): a token never goes into a URL, where proxies and histories keep it. */
  _wsUrl(ticket) {
    const url = new URL(`${this.baseUrl}/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('ticket', ticket);
    return url.href;
  }

  /** Asks for a ticket, then opens the socket with it (an attempt superseded or stopped meanwhile opens nothing). */
  _open() {
    clearTimeout(this._timers.retry);
    this._timers.retry = null;
    this._setState(this._everOpened || this._attempt > 0 ? 'reconnecting' : 'connecting');
    const attempt = ++this._openSeq;
    this._opening = attempt;
    this._request('POST', '/api/auth/ticket').then((data) => {
      if (this._opening !== attempt) return;
      if (typeof data?.ticket !== 'string') throw apiError(0, 'connect_failed', 'the server gave no ticket');
      this._opening = 0;
      if (this._stopped || this._ws) return;
      this._openWith(data.ticket);
    }).catch((e) => {
      if (this._opening !== attempt) return;
      this._opening = 0;
      if (this._stopped) return; // a 401 has stopped the client and said `unauthorized`
      this._emit('error', { code: 'connect_failed', message: String(e?.message ?? e) });
      this._retry();
    });
  }

  _openWith(ticket) {
    let ws;
    try {
      ws = new this._WebSocket(this._wsUrl(ticket));
    } catch (e) {
      this._emit('error', { code: 'connect_failed', message: String(e?.message ?? e) });
      this._retry();
      return;
    }
    this._ws = ws;
    let opened = false;
    // Handlers check identity so a socket we have given up on can never touch the state again.
    ws.onopen = () => { if (ws === this._ws) { opened = true; this._onOpen(); } };
    ws.onmessage = (ev) => { if (ws === this._ws) this._onFrame(ev.data); };
    ws.onclose = (ev) => { if (ws === this._ws) this._onClose(ev.code, opened); };
    // A close always follows an error, and is where it is handled. The listener is for Node's `ws`
    // package, which throws an 'error' event nobody listens to (a refused or cut-off upgrade).
    ws.onerror = () => {};
  }

  _onOpen() {
    this._everOpened = true;
    this.loadLimits(); // the server is reachable now, if it was not when the page loaded
    this._lastRx = Date.now();
    this._pingAt = 0;
    this._setState('open');
    this._timers.stable = setTimeout(() => { this._attempt = 0; }, STABLE_AFTER_MS);
    this._timers.heartbeat = setInterval(() => this._heartbeat(), HEARTBEAT_MS);
    for (const r of [...this._rooms.values()]) {
      // The event that took us out arrived, its `left` was lost with the connection: not joined again.
      if (r.gone) { this._takenOut(r.name, r.gone); continue; }
      this._sendJoin(r);
    }
  }

  // A half-open TCP connection (sleeping laptop, dead Wi-Fi) never fires `close` by itself.
  _heartbeat() {
    if (this._pingAt && this._lastRx < this._pingAt) {
      const ws = this._ws;
      this._onClose(1006, true);
      try { ws?.close(); } catch { /* ignore */ }
      return;
    }
    this._pingAt = Date.now();
    this._frame({ type: 'ping' });
  }

  _onClose(code, opened) {
    this._ws = null;
    this._onWire.clear(); // unanswered sends go again, in their order, once their rooms are joined again
    clearTimeout(this._timers.stable);
    clearInterval(this._timers.heartbeat);
    for (const r of this._rooms.values()) { r.ready = false; r.loadingOlder = false; }
    if (this._stopped) { this._setState('closed', { code }); return; }
    if (code === 4001 && this._cookieSession) {
      // The access token ran out (a renewal came too late, a laptop slept): renew it, then reconnect.
      this._setState('reconnecting', { code });
      this._renew().then(() => this._retry(code));
      return;
    }
    if (code === 4001) { this._unauthorized('token_expired'); return; }
    // Logged out (here or everywhere), password changed, account disabled or deleted: the token is
    // dead on every node, so reconnecting with it is pointless.
    if (code === 4003) { this._unauthorized('session_revoked'); return; }
    if (FINAL_CLOSE_CODES.has(code)) { this._halt({ code }); return; }
    if (!opened) {
      // A browser hides the status of a refused upgrade; ask the HTTP API whether the token is the problem.
      if (!this._cookieSession && expiryMillis(this.expiresAt, this.token) <= Date.now()) { this._unauthorized('token_expired'); return; }
      this._setState('reconnecting', { code });
      this.rooms().then(() => this._retry(code), (e) => { if (e.status !== 401) this._retry(code); });
      return;
    }
    this._retry(code);
  }

  _retry(code) {
    if (this._stopped || this._ws || this._opening) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(this._attempt++, 15));
    const delay = Math.round((BACKOFF_FLOOR_MS[code] ?? 0) + Math.random() * ceiling);
    clearTimeout(this._timers.retry);
    this._timers.retry = setTimeout(() => { this._timers.retry = null; this._open(); }, delay);
    this._setState('reconnecting', { code, delay });
  }

  _unauthorized(reason) {
    if (this._unauthorizedSent) return;
    this._unauthorizedSent = true;
    this.close();
    this._emit('unauthorized', { reason });
  }

  _clearTimers() {
    clearTimeout(this._timers.retry);
    clearTimeout(this._timers.stable);
    clearInterval(this._timers.heartbeat);
    clearTimeout(this._timers.renew); // connect() schedules it again
    this._timers.retry = null;
    this._timers.renew = null;
  }

  _setState(state, extra = {}) {
    this._state = state;
    this._emit('state', { state, ...extra });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Sends a frame with a fresh `ref`; returns the ref, or null when not connected. */
  _frame(frame, info) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return null;
    const ref = `${frame.type}-${++this._refSeq}`;
    this._refs.set(ref, { type: frame.type, ...info });
    if (this._refs.size > MAX_REFS) this._refs.delete(this._refs.keys().next().value);
    ws.send(JSON.stringify({ ...frame, ref }));
    return ref;
  }

  // --- commands -----------------------------------------------------------------------

  /**
   * Joins a room (and keeps it joined across reconnects). `checkName: false` skips the room-name
   * rule, for a name the server itself gave (a direct room's).
   */
  join(room, { checkName = true } = {}) {
    if (typeof room !== 'string' || !room || (checkName && !this.isValidRoomName(room))) {
      throw apiError(0, 'bad_request', `Invalid room name: ${room}`);
    }
    if (this._rooms.has(room)) return false;
    const r = newRoom(room);
    this._rooms.set(room, r);
    this._takeUpRestored(room);
    this._sendJoin(r);
    return true;
  }

  _sendJoin(r) {
    r.ready = false;
    const frame = { type: 'join', room: r.name };
    if (r.lastSeq !== null) frame.since = r.lastSeq;
    this._frame(frame, { room: r.name });
  }

  leave(room) {
    if (!this._forget(room)) return false;
    if (this._frame({ type: 'leave', room }, { room })) this._leaving.add(room);
    return true;
  }

  /**
   * Forgets a room without telling the server: for one the server has taken this user out of
   * (a removal, a ban, a deletion, leaving it with DELETE .../members/{me}). Returns whether it was joined.
   */
  drop(room) {
    this._leaving.delete(room);
    return this._forget(room);
  }

  _forget(room) {
    if (!this._rooms.delete(room)) return false;
    for (const [id, e] of this._unacked) if (e.room === room) this._unacked.delete(id);
    for (const [id, e] of this._failed) if (e.room === room) this._failed.delete(id);
    this._onWire.delete(room);
    this._restored = this._restored.filter((e) => e.room !== room);
    this._saveUnsent();
    return true;
  }

  /** The server took us out of `room` (a `left` with a reason, or its event before a lost connection). */
  _takenOut(room, reason) {
    this._leaving.delete(room);
    this._forget(room);
    this._emit('left', { room, reason });
  }

  /**
   * Posts `text` (trimmed) to a joined room, as a reply to message `replyTo` if given; returns its
   * clientId, or null if there is nothing to send.
   */
  send(room, text, { replyTo } = {}) {
    const body = typeof text === 'string' ? text.trim() : '';
    if (!body) return null;
    if (!this._rooms.has(room)) throw apiError(0, 'not_joined', `Join #${room} before sending to it.`);
    const entry = { room, text: body, clientId: uuid(), ts: new Date().toISOString() };
    if (Number.isInteger(replyTo) && replyTo > 0) entry.replyTo = replyTo;
    this._unacked.set(entry.clientId, entry);
    this._remember(entry.clientId);
    this._saveUnsent();
    this._emitPending(entry);
    this._pump();
    return entry.clientId;
  }

  /** Sends a failed message again, with its original clientId. */
  retry(clientId) {
    const entry = this._failed.get(clientId);
    if (!entry) return false;
    this._failed.delete(clientId);
    delete entry.failed;
    if (!this._rooms.has(entry.room)) { this._fail(entry, 'not_joined', `You left #${entry.room}.`); return false; }
    this._unacked.set(clientId, entry); // last in line: after everything typed before the retry
    this._saveUnsent();
    this._pump();
    return true;
  }

  /** Forgets a failed message for good (it is not sent); returns whether there was one. */
  discard(clientId) {
    if (!this._failed.delete(clientId)) return false;
    this._saveUnsent();
    return true;
  }

  /**
   * Puts on the wire, for each room, its first unsent entry of `_unacked` (the order they were typed),
   * if the room is joined, nothing of it is on the wire already, and the pace allows; the rest waits.
   * One send per room at a time, the next once the server has answered (`_settle`, `_onError`): a send
   * the server refuses for the rate goes again first, and no later one can be stored before it. (With
   * several on the wire, one refused while the next were already on their way was overtaken by them:
   * the server takes each send on its own.) The wait is a round trip per message of a room, far below a
   * person's pace; a burst is bound by the rate anyway.
   */
  _pump() {
    const hold = this._holdUntil - Date.now();
    if (hold > 0) { this._schedulePace(hold); return; }
    const looked = new Set(this._onWire.keys()); // rooms whose next send waits for an answer, or was looked at
    for (const entry of [...this._unacked.values()]) {
      if (looked.has(entry.room)) continue;
      looked.add(entry.room);
      if (!this._rooms.get(entry.room)?.ready) continue; // goes out on `joined`
      if (this._refuseLocally(entry)) { looked.delete(entry.room); continue; } // failed: the next of its room may go
      if (!this._takeSendToken()) { this._schedulePace(this._nextTokenMs()); return; }
      if (this._send(entry)) this._onWire.set(entry.room, entry.clientId);
    }
  }

  /**
   * Refuses, at once and without sending it, a text the server would refuse for its length (its
   * own words), or whose frame would be over its frame size: that would close the socket (1009)
   * and be re-sent forever after reconnecting.
   */
  _refuseLocally(entry) {
    const { maxTextLength, maxFrameBytes } = this.limits;
    if ([...entry.text].length > maxTextLength) {
      this._fail(entry, 'too_large', `text is longer than ${maxTextLength} characters`);
      return true;
    }
    const frame = { type: 'send', room: entry.room, text: entry.text, clientId: entry.clientId, replyTo: entry.replyTo, ref: LONGEST_REF };
    if (utf8.encode(JSON.stringify(frame)).length > maxFrameBytes) {
      this._fail(entry, 'too_large', 'This message is too long.');
      return true;
    }
    return false;
  }

  /** Returns whether the frame went on the wire. */
  _send(entry) {
    const frame = { type: 'send', room: entry.room, text: entry.text, clientId: entry.clientId };
    if (entry.replyTo) frame.replyTo = entry.replyTo;
    return this._frame(frame, { room: entry.room, clientId: entry.clientId }) !== null;
  }

  // --- the changes of a message (PROTOCOL.md, edit, delete, react) ------------------------
  // Sent at once, not queued across a reconnect: each answers with an `ack` (emitted as
  // `changed`) or an `error` (emitted with its `frame`), and every member, this client
  // included, gets the change's event as a message of the room.

  /** Changes the text of our message `seq`; returns the frame's ref, or throws when not connected. */
  edit(room, seq, text) {
    return this._change({ type: 'edit', room, seq, text: typeof text === 'string' ? text.trim() : '' });
  }

  /** Deletes message `seq` (our own, or anyone's for a moderator or the owner). */
  deleteMessage(room, seq) {
    return this._change({ type: 'delete', room, seq });
  }

  /** Gives (`on`) or takes back our reaction `emoji` to message `seq`. */
  react(room, seq, emoji, on) {
    return this._change({ type: 'react', room, seq, emoji, on: !!on });
  }

  _change(frame) {
    if (!this._rooms.get(frame.room)?.ready) throw apiError(0, 'not_joined', `Not connected to #${frame.room} right now; try again in a moment.`);
    const ref = this._frame(frame, { room: frame.room, seq: frame.seq });
    if (!ref) throw apiError(0, 'unavailable', 'Not connected right now; try again in a moment.');
    return ref;
  }

  _takeSendToken() {
    const now = Date.now();
    this._sendTokens = Math.min(burstOf(this.limits), this._sendTokens + ((now - this._tokensAt) / 1000) * this._sendRate);
    this._tokensAt = now;
    if (this._sendTokens < 1) return false;
    this._sendTokens -= 1;
    return true;
  }

  /** Milliseconds until the bucket holds a whole token again (one more, so that rounding never leaves it a hair short). */
  _nextTokenMs() {
    return Math.ceil((Math.max(0, 1 - this._sendTokens) * 1000) / this._sendRate) + 1;
  }

  _schedulePace(ms) {
    if (this._timers.pace) return;
    this._timers.pace = setTimeout(() => { this._timers.pace = null; this._pump(); }, ms);
  }

  /** The room's send on the wire is answered (stored, or refused): its next may go. */
  _offWire(entry) {
    if (this._onWire.get(entry.room) === entry.clientId) this._onWire.delete(entry.room);
  }

  _fail(entry, code, message) {
    this._unacked.delete(entry.clientId);
    this._offWire(entry);
    entry.failed = { code, message }; // kept with it, so that a reload shows why
    this._failed.set(entry.clientId, entry);
    this._saveUnsent();
    this._emitFailed(entry);
  }

  _emitFailed({ room, clientId, failed }) {
    this._emit('sendfailed', { room, clientId, code: failed.code, message: failed.message });
  }

  /** The optimistic copy of our own send, shown until the server's echo replaces it. */
  _emitPending({ room, text, ts, clientId, replyTo }) {
    this._emit('message', {
      room,
      message: { room, seq: null, id: null, from: this.username, text, ts, clientId, replyTo },
      pending: true,
      local: true,
    });
  }

  _remember(clientId) {
    this._sent.add(clientId);
    if (this._sent.size > 5_000) this._sent.delete(this._sent.values().next().value);
  }

  // --- unsent messages across a reload ---------------------------------------------------
  // Kept per user under parley.unsent:<user>, rewritten whenever the set changes. A message the
  // server stored but whose ack the reload cut off is sent again under its clientId, and the
  // server answers with the original ack instead of storing a copy. A refused one comes back
  // refused, with its reason, until it is retried or discarded: the text is still the user's.

  _unsentKey() { return `parley.unsent:${this.username}`; }

  _readUnsent() {
    if (!this._storage || !this.username) return [];
    try {
      const list = JSON.parse(this._storage.getItem(this._unsentKey()) ?? '[]');
      return (Array.isArray(list) ? list : []).filter((e) => e && typeof e.clientId === 'string'
        && typeof e.text === 'string' && typeof e.room === 'string' && e.room)
        .map((e) => {
          const entry = { room: e.room, text: e.text, clientId: e.clientId, ts: typeof e.ts === 'string' ? e.ts : new Date().toISOString() };
          if (Number.isInteger(e.replyTo) && e.replyTo > 0) entry.replyTo = e.replyTo;
          if (e.failed && typeof e.failed.code === 'string' && typeof e.failed.message === 'string') {
            entry.failed = { code: e.failed.code, message: e.failed.message };
          }
          return entry;
        });
    } catch {
      return []; // unreadable: nothing to restore
    }
  }

  _saveUnsent() {
    if (!this._storage || !this.username) return;
    const all = [...this._unacked.values(), ...this._failed.values(), ...this._restored];
    try {
      if (all.length) this._storage.setItem(this._unsentKey(), JSON.stringify(all));
      else this._storage.removeItem(this._unsentKey());
    } catch { /* full or unavailable: they live in this page's memory only */ }
  }

  /**
   * On join: the room's restored entries become pending sends again, shown as such and sent once
   * joined; refused ones are shown refused again, and wait for retry() or discard().
   */
  _takeUpRestored(room) {
    const mine = this._restored.filter((e) => e.room === room);
    if (!mine.length) return;
    this._restored = this._restored.filter((e) => e.room !== room);
    for (const entry of mine) {
      if (this._unacked.has(entry.clientId) || this._failed.has(entry.clientId)) continue;
      this._remember(entry.clientId);
      this._emitPending(entry);
      if (entry.failed) {
        this._failed.set(entry.clientId, entry);
        this._emitFailed(entry);
      } else {
        this._unacked.set(entry.clientId, entry);
      }
    }
  }

  /** At most one `typing` frame per room every 2 s (or the server's typing rate, if slower); returns whether one was sent. */
  typing(room) {
    const r = this._rooms.get(room);
    const now = Date.now();
    const every = Math.max(TYPING_EVERY_MS, 1000 / this.limits.typingRate);
    if (!r?.ready || now - r.typingAt < every) return false;
    if (!this._frame({ type: 'typing', room }, { room })) return false;
    r.typingAt = now;
    return true;
  }

  /** Asks for the page below the lowest loaded seq; the answer is a `history` event. */
  loadOlder(room, limit = this.limits.historyLimitDefault) {
    const r = this._rooms.get(room);
    if (!r?.ready || r.loadingOlder || !r.hasOlder || !(r.lowestSeq > 1)) return false;
    if (!this._frame({ type: 'history', room, before: r.lowestSeq, limit }, { room })) return false;
    r.loadingOlder = true;
    return true;
  }

  ping() { return this._frame({ type: 'ping' }) !== null; }

  /**
   * Marks the room read up to `seq` for this user on every device (PROTOCOL.md, `read`): at most one
   * `read` frame a second per room (each is a write on the server), the latest asked for; sent again
   * after a reconnect if it could not go. Returns whether there was anything to mark.
   */
  markRead(room, seq) {
    const r = this._rooms.get(room);
    if (!r || !Number.isInteger(seq) || seq <= Math.max(r.readWant, r.readSeq ?? -1)) return false;
    r.readWant = seq;
    this._scheduleRead(r);
    return true;
  }

  _scheduleRead(r) {
    if (r.readTimer) return;
    const wait = Math.max(0, READ_EVERY_MS - (Date.now() - r.readAt));
    r.readTimer = setTimeout(() => {
      r.readTimer = null;
      if (this._rooms.get(r.name) !== r || !r.ready || r.readWant <= (r.readSeq ?? -1)) return;
      if (this._frame({ type: 'read', room: r.name, seq: r.readWant }, { room: r.name })) r.readAt = Date.now();
    }, wait);
  }

  /** Replaces the connection's token (same user) before it expires; also used for reconnects. */
  refresh(token, expiresAt) {
    this.token = token;
    if (expiresAt !== undefined) this.expiresAt = expiresAt;
    this._unauthorizedSent = false;
    return this._frame({ type: 'refresh', token }, {}) !== null;
  }

  // --- incoming -----------------------------------------------------------------------

  _onFrame(raw) {
    this._lastRx = Date.now();
    let f;
    try { f = JSON.parse(raw); } catch { return; }
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'message': this._onMessage(f); break;
      case 'joined': this._onJoined(f); break;
      case 'ack': this._onAck(f); break;
      case 'history': this._onHistory(f); break;
      case 'presence': this._onPresence(f); break;
      case 'presence_summary': this._onPresenceSummary(f); break;
      case 'typing': if (this._rooms.has(f.room)) this._emit('typing', { room: f.room, user: f.user }); break;
      case 'left': this._onLeft(f); break;
      case 'pong': this._emit('pong', {}); break;
      case 'read': this._onRead(f); break;
      case 'error': this._onError(f); break;
      default: break; // newer servers may add frame types
    }
  }

  _onJoined(f) {
    const r = this._rooms.get(f.room);
    if (!r) return;
    const first = r.lastSeq === null;
    const roomLast = Number.isInteger(f.lastSeq) ? f.lastSeq : 0;
    r.ready = true;
    r.gone = null;
    r.liveAfter = roomLast;
    r.members = new Set(Array.isArray(f.members) ? f.members : []);
    r.online = Number.isInteger(f.online) ? f.online : r.members.size;
    if (first) {
      // Live messages continue after lastSeq; everything up to it is "older" and paged in.
      r.lastSeq = roomLast;
      r.lowestSeq = roomLast + 1;
      r.hasOlder = roomLast > 0;
    } else if (f.recovered === false) {
      // Only the newest messages are replayed: the hole before them is filled from history.
      r.target = Math.max(r.target, roomLast);
    }
    const read = readState(f);
    if (read.readSeq !== null) r.readSeq = Math.max(r.readSeq ?? 0, read.readSeq);
    if (Number.isInteger(f.historyStart)) r.historyStart = f.historyStart;
    this._emit('joined', {
      room: r.name, lastSeq: roomLast, online: r.online, members: [...r.members],
      recovered: f.recovered !== false, resumed: !first, ...read, historyStart: r.historyStart ?? 1,
    });
    if (r.readWant > (r.readSeq ?? -1)) this._scheduleRead(r); // asked for while the connection was away
    this._drain(r);
    this._pump(); // the room's unsent messages, in order, one at a time
    if (!r.loadedOlder && r.hasOlder) this.loadOlder(r.name); // the first screenful
    if (r.buffer.size || r.target > r.lastSeq) this._catchUp(r);
  }

  /**
   * The user's read marker in a room, from this connection's `read` or another device's (PROTOCOL.md,
   * read state): a `read` event {room, readSeq, lastSeq, unread, mentions}. One that is not newer
   * than what is known (two devices' frames may cross) is ignored.
   */
  _onRead(f) {
    if (f.ref) this._refs.delete(f.ref);
    const r = this._rooms.get(f.room);
    if (!r || !Number.isInteger(f.seq) || (r.readSeq !== null && f.seq < r.readSeq)) return;
    r.readSeq = f.seq;
    this._emit('read', { room: r.name, lastSeq: Number.isInteger(f.lastSeq) ? f.lastSeq : f.seq, ...readState({ ...f, readSeq: f.seq }) });
  }

  _onMessage(f) {
    const r = this._rooms.get(f.room);
    if (!r || !Number.isInteger(f.seq)) return;
    if (r.lastSeq !== null && f.seq <= r.lastSeq) return;
    if (r.lastSeq !== null && f.seq === r.lastSeq + 1) {
      this._deliver(r, f);
      this._drain(r);
      return;
    }
    // Ahead of what we have (or before the first `joined`): hold it until the gap is filled.
    r.buffer.set(f.seq, f);
    if (r.lastSeq !== null) this._catchUp(r);
  }

  _deliver(r, raw) {
    const message = toMessage(raw, r.name);
    r.lastSeq = message.seq;
    const ev = message.seq > r.liveAfter ? message.event : undefined; // not the replay of a join the server let us in by
    if (ev && (ev.type === 'room_deleted' || (ev.user === this.username && GONE_REASONS[ev.type]))) {
      r.gone = GONE_REASONS[ev.type];
    } else if (ev && ev.user === this.username && (ev.type === 'member_added' || ev.type === 'room_created')) {
      r.gone = null; // removed and added again while away: the replay holds both
    }
    if (r.lowestSeq === null || message.seq < r.lowestSeq) r.lowestSeq = message.seq;
    const local = !!message.clientId && message.from === this.username && this._sent.has(message.clientId);
    if (local) {
      // Our own echo proves the message is stored, even if its ack was lost with a connection.
      const entry = this._unacked.get(message.clientId) ?? this._failed.get(message.clientId);
      if (entry) this._settle(entry, message);
    }
    this._emit('message', { room: r.name, message, pending: false, local });
  }

  _drain(r) {
    if (r.lastSeq === null) return;
    for (const seq of r.buffer.keys()) if (seq <= r.lastSeq) r.buffer.delete(seq);
    while (r.buffer.has(r.lastSeq + 1)) {
      const m = r.buffer.get(r.lastSeq + 1);
      r.buffer.delete(m.seq);
      this._deliver(r, m);
    }
  }

  /** Pages the room forward over HTTP until the gap before buffered messages (or `target`) is closed. */
  async _catchUp(r) {
    if (r.catchingUp) return;
    r.catchingUp = true;
    try {
      while (this._rooms.get(r.name) === r) {
        let goal = r.target;
        for (const seq of r.buffer.keys()) if (seq > goal) goal = seq;
        if (r.lastSeq >= goal && r.buffer.size === 0) break;
        const from = r.lastSeq;
        const pageSize = this.limits.historyLimitMax;
        // `after` must be >= 1, so a room we saw empty is read from its start with `before`.
        const page = await this.history(r.name, from > 0
          ? { after: from, limit: pageSize }
          : { before: Math.min(goal, pageSize) + 1, limit: pageSize });
        if (this._rooms.get(r.name) !== r) break;
        for (const m of page?.messages ?? []) if (Number.isInteger(m.seq) && m.seq > r.lastSeq) this._deliver(r, m);
        this._drain(r);
        if (r.lastSeq === from) {
          // The store has nothing more: whatever is missing is gone (retention), so move on.
          const rest = [...r.buffer.values()].sort((a, b) => a.seq - b.seq);
          r.buffer.clear();
          for (const m of rest) if (m.seq > r.lastSeq) this._deliver(r, m);
          r.target = 0;
          break;
        }
      }
    } catch (e) {
      this._emit('error', { code: e.code ?? 'internal', message: e.message, room: r.name, frame: 'catchup' });
      if (e.status !== 401 && e.status !== 404) {
        setTimeout(() => { if (this._rooms.get(r.name) === r) this._catchUp(r); }, 3_000);
      }
    } finally {
      r.catchingUp = false;
    }
  }

  _onAck(f) {
    if (Number.isInteger(f.target) && !f.clientId) {
      // The answer to an edit, delete or react: stored (its event, if any, arrives as a message).
      const info = f.ref ? this._refs.get(f.ref) : undefined;
      if (info) this._refs.delete(f.ref);
      this._emit('changed', { room: f.room, target: f.target, seq: f.seq ?? null, frame: info?.type });
      return;
    }
    const entry = this._unacked.get(f.clientId) ?? this._failed.get(f.clientId);
    if (!entry || (f.room && entry.room !== f.room)) return;
    // Back toward the server's rate after a refusal, a twentieth of it at a time.
    this._sendRate = Math.min(this.limits.sendRate * PACE, this._sendRate + this.limits.sendRate / 20);
    // At or below what was delivered, yet not settled by its echo: stored before this join.
    const lastSeq = this._rooms.get(entry.room)?.lastSeq;
    this._settle(entry, f, Number.isInteger(f.seq) && lastSeq != null && f.seq <= lastSeq);
  }

  _settle(entry, { seq, id, ts }, earlier = false) {
    this._unacked.delete(entry.clientId);
    this._failed.delete(entry.clientId);
    this._offWire(entry);
    this._saveUnsent();
    this._emit('ack', { room: entry.room, clientId: entry.clientId, seq, id, ts, earlier });
    this._pump();
  }

  _onHistory(f) {
    const r = this._rooms.get(f.room);
    if (!r) return;
    r.loadingOlder = false;
    const floor = r.lowestSeq ?? Infinity;
    const messages = (Array.isArray(f.messages) ? f.messages : [])
      .filter((m) => Number.isInteger(m.seq) && m.seq < floor)
      .sort((a, b) => a.seq - b.seq)
      .map((m) => toMessage(m, r.name));
    if (messages.length) r.lowestSeq = messages[0].seq;
    r.hasOlder = !!f.hasMore && messages.length > 0 && r.lowestSeq > 1;
    const initial = !r.loadedOlder;
    r.loadedOlder = true;
    for (const m of messages) {
      // A send re-sent after a reload may already be stored: history proves it.
      const entry = m.from === this.username && m.clientId ? this._unacked.get(m.clientId) : undefined;
      if (entry && entry.room === r.name) this._settle(entry, m, true);
    }
    if (Number.isInteger(f.historyStart)) r.historyStart = f.historyStart;
    this._emit('history', { room: r.name, messages, hasMore: r.hasOlder, initial, historyStart: r.historyStart ?? 1 });
  }

  _onPresence(f) {
    const r = this._rooms.get(f.room);
    if (!r) return;
    const had = r.members.has(f.user);
    if (f.status === 'online' && !had) { r.members.add(f.user); r.online = (r.online ?? 0) + 1; }
    if (f.status === 'offline' && had) { r.members.delete(f.user); r.online = Math.max(0, (r.online ?? 1) - 1); }
    this._emit('presence', { room: r.name, user: f.user, status: f.status, online: r.online, members: [...r.members] });
  }

  /** A big room's presence over the last interval: set operations, and the server's count. */
  _onPresenceSummary(f) {
    const r = this._rooms.get(f.room);
    if (!r) return;
    const joined = Array.isArray(f.joined) ? f.joined : [], left = Array.isArray(f.left) ? f.left : [];
    for (const u of joined) r.members.add(u);
    for (const u of left) r.members.delete(u);
    r.online = Number.isInteger(f.online) ? f.online : r.members.size;
    this._emit('presence', { room: r.name, status: 'summary', joined, left, online: r.online, members: [...r.members] });
  }

  _onLeft(f) {
    // Taken out by a change made elsewhere (PROTOCOL.md 7, `left`): whatever this client asked
    // since, the connection is out of the room, and must not join it again by itself.
    if (typeof f.reason === 'string' && f.reason && !f.ref) { this._takenOut(f.room, f.reason); return; }
    // A `left` we asked for must not drop a room joined again since.
    if (this._leaving.delete(f.room)) { this._emit('left', { room: f.room }); return; }
    if (this._rooms.delete(f.room)) this._emit('left', { room: f.room });
  }

  _onError(f) {
    const info = f.ref ? this._refs.get(f.ref) : undefined;
    if (info) this._refs.delete(f.ref);
    const detail = { code: f.code, message: f.message ?? f.code, ref: f.ref, room: info?.room, frame: info?.type };
    if (info?.type === 'send') {
      const entry = this._unacked.get(info.clientId);
      if (entry && f.code === 'rate_limited') {
        // The server is stricter than the pace (limits not known, or changed): this send goes
        // again first (it keeps its place in _unacked, and nothing of its room went after it),
        // after a pause long enough for a token, and the pace halves (PROTOCOL.md 12: wait, then
        // resend with the same clientId).
        this._offWire(entry);
        this._sendRate = Math.max(this.limits.sendRate / 16, this._sendRate / 2);
        this._sendTokens = 0;
        this._tokensAt = Date.now();
        this._holdUntil = Date.now() + Math.max(RATE_LIMITED_WAIT_MS, 1000 / this.limits.sendRate);
        clearTimeout(this._timers.pace);
        this._timers.pace = null;
        this._pump();
        return;
      }
      if (entry) {
        this._fail(entry, f.code, detail.message);
        this._pump();
      }
    } else if (info?.type === 'join') {
      const r = this._rooms.get(info.room);
      if (r && ['rate_limited', 'unavailable', 'internal'].includes(f.code)) {
        setTimeout(() => { if (this._rooms.get(info.room) === r && !r.ready) this._sendJoin(r); }, 3_000);
      } else if (r) {
        this._rooms.delete(info.room);
        for (const e of [...this._unacked.values()]) if (e.room === info.room) this._fail(e, f.code, detail.message);
      }
    } else if (info?.type === 'history') {
      const r = this._rooms.get(info.room);
      if (r) r.loadingOlder = false;
    } else if (info?.type === 'read') {
      // Past the rate: the latest marker goes again a little later; any other refusal is final.
      const r = this._rooms.get(info.room);
      if (r && f.code === 'rate_limited') setTimeout(() => this._scheduleRead(r), RATE_LIMITED_WAIT_MS);
      return; // nothing to show: the badge is put right by the next read or room list
    }
    this._emit('error', detail);
  }
}

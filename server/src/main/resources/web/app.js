/*
 * Parley web UI, on top of ChatClient (chat-client.js). No framework, no build step.
 * Over 800 lines because of that: with no build step, splitting it means one more script tag per
 * part and globals between them. The parts are in sections below (session, rooms, messages,
 * composer); it is to be split into ES modules when the client gets a build (issue 23).
 *
 * Stable hooks for browser tests (keep in sync with index.html):
 *   #auth-view, #auth-form       the sign-in screen (hidden while signed in)
 *   #username, #password         credentials
 *   #login-btn                   submit (Enter in the form also logs in)
 *   #register-btn                sign up (then signed in directly)
 *   #auth-error                  role=alert; API errors, "session expired"
 *   #chat-view                   the chat screen (hidden while signed out)
 *   #me                          the signed-in username
 *   #logout-btn                  ends this browser's session on the server (every tab of it), then signs out
 *   #logout-all-btn              "Log out everywhere": revokes every token of the user (other
 *                                devices are signed out within a second), then signs out
 *   #conn-status                 role=status; data-state = connecting|open|reconnecting|closed;
 *                                hidden while open, text "Connecting…" / "Reconnecting…" otherwise
 *                                ("Disconnected (1009): reload the page" after a close that is not reopened)
 *   #session-warning             (form) shown a few minutes before the session ends: #session-warning-text
 *                                (role=alert) "Your session ends at 14:05, …"; #session-password ("Your password"),
 *                                #session-stay "Stay signed in" (a new session, the connection goes on),
 *                                #session-later "Not now" (hides it); #session-error (role=alert)
 *   #alert                       role=alert, hidden when empty: why the user is no longer in a room
 *                                ("You were banned from #ops by alice: spam"); #alert-text, #alert-close
 *   #room-input, #join-btn       join (or create) a room; #room-error (role=alert) for bad names
 *   #new-room (details, summary "New room"), #new-room-form: #new-room-name, radio
 *                                input[name=visibility] (public|private), #new-room-topic, #new-room-btn
 *                                "Create room"; #new-room-error (role=alert)
 *   #dm-form, #dm-input, #dm-btn  start a direct message with a username; #dm-error (role=alert)
 *   #room-list > li[data-room="<name>"]   public and private rooms (direct ones are in #dm-list)
 *                                data-joined="true|false", data-current="true" on the room in view,
 *                                data-kind="public|private|direct";
 *                                children .room-btn (click: join / switch), .room-name, .kind-badge
 *                                ("private", private rooms only), .online (count), .unread (badge with
 *                                the count of others' messages after the user's read marker; hidden
 *                                when 0), .mentions ("@2": those that mention the user; hidden when 0),
 *                                .room-state (visually hidden: the badges in words, ", private, 2 online,
 *                                3 unread, @1 mention"), .leave-btn (joined only). The counts are the
 *                                server's (GET /api/rooms, joined, read), the same in every tab and after a reload
 *   #dm-list > li[data-room="<name>"][data-with="<user>"]   direct rooms, the same children, .room-name
 *                                being the other user; #dm-empty "No direct messages yet."
 *   #rooms-toggle                "Rooms": on a phone, back from a room to the list (one pane at a time:
 *                                #chat-view[data-pane=rooms|room])
 *   #current-room                the name of the room in view ('' when none), the other user's for a
 *                                direct room; data-room = the room's name, data-kind
 *   #room-kind                   "private" badge; #room-topic the room's topic
 *   #online-count                "3 online"
 *   #members-toggle              "Members", narrower windows only: shows #members-panel over the messages
 *   #members-panel               members of the room in view (GET .../members); #members-close on narrow windows
 *     #my-role                   "You are the owner." / "You are a moderator." / ...
 *     #member-list > li[data-user][data-role]   .member-name, .role (owner|moderator|member), .muted
 *                                ("muted until 14:05"), and buttons, each only where the caller's role
 *                                allows it (PROTOCOL.md 3.3), named "<Action> <user>" for assistive tech
 *                                (the visible words first: "Make moderator: bob"):
 *                                .dm-btn "Message", .mute-btn "Mute" (1 hour) / .unmute-btn "Unmute",
 *                                .role-btn "Make moderator" / "Make member", .remove-btn "Remove",
 *                                .ban-btn "Ban" (opens .ban-form: .ban-reason, .ban-confirm "Ban", .ban-cancel)
 *     #members-empty             when the room has no recorded members (a public room made by joining it)
 *     #invite-form, #invite-input, #invite-btn   moderators and the owner; #members-error (role=alert)
 *     #bans > #ban-list > li[data-user]   moderators and the owner: .unban-btn "Unban"
 *     #leave-room-btn            "Leave room" (members and moderators; not the owner, not in a direct room)
 *     #delete-room-btn           "Delete room…" (the owner), then #delete-yes / #delete-no
 *   #messages                    role=log, aria-live=polite; scrolls; scrolling to the top loads older
 *     li.event                  a room event (someone added, removed, banned, ...) as a line of its own:
 *                               data-seq, data-event (its type), .event-text (the server's `text`), .time
 *     li.message                data-seq (set once acked), data-client-id, data-from,
 *                               data-status = sending|sent|failed; class .own for our messages;
 *                               data-bot="true" and a .bot-badge "BOT" after .from for a bot's message;
 *                               children .from, .time (<time datetime=ISO>), .text, .status,
 *                               .text .mention (an @name the message mentions; .mention.me for the
 *                               user), class .mentions-me on a message that mentions the user,
 *                               .retry-btn (only when failed, and not for a refusal of the text itself),
 *                               .discard-btn (only when failed: forgets it)
 *     li.history-marker         "Loading…" / "This is the beginning of #room." / "History starts here: …
 *                                 removed by the room's retention." (when the room's history was cut)
 *   #jump-btn                    "New messages ↓" while scrolled up
 *   #typing                      data-active="true|false"; "alice is typing…"; hidden 3 s after the last event
 *   #presence-list > li[data-user="<name>"]   users online in the room in view (.me = ourselves)
 *   #composer (textarea), #send-btn, #composer-form   Enter sends, Shift+Enter is a newline
 *   #mention-list                role=listbox of member names completing an "@" being typed (hidden when
 *                                none): li[role=option][data-user], .active the one Enter/Tab takes;
 *                                arrows move, Escape closes
 *   #notice                      role=status; transient errors
 *   #admin-btn, #admin-view      the admin page, for the server's administrators: see admin.js
 *   window.parleyApp = { client }   the ChatClient instance
 *
 * Rules come from the server (GET /api/limits, read before anything else; its defaults stand in if
 * it does not answer): the room-name rule here, the send pace and text length in ChatClient.
 *
 * No token is kept in any storage: the session is the server's HttpOnly cookie, and the access token
 * lives in ChatClient's memory ({session: 'cookie'}); a load asks the server for it (resume()).
 * localStorage: parley.rooms:<user> = [joined rooms]; parley.current:<user> = room in view;
 *               parley.signedOut = time of the last "Log out" here, which signs out the other tabs;
 *               parley.sessionRenewed = time of the last "Stay signed in" here: the other tabs take up the new session.
 * sessionStorage (ChatClient): parley.unsent:<user> = [sends not yet acknowledged, and refused ones].
 * sessionStorage: parley.drafts:<user> = {room: text typed, not sent}, kept when a session ends by itself.
 */
import { ChatClient, DEFAULT_LIMITS, expiryMillis, readState } from './chat-client.js';
import { AdminPage } from './admin.js';

/** Where versions before cookie sessions kept the token: cleared on load. */
const LEGACY_SESSION_KEY = 'parley.session';
/** Set by a tab that logs out: the other tabs, whose session that was too, sign out saying why. */
const SIGNED_OUT_KEY = 'parley.signedOut';
const SIGNED_OUT_RECENT_MS = 10_000;
// The room list's online counts, and rooms made or shared with this user elsewhere (a direct room
// someone else started shows up by this alone): every 15 s while the page is seen, at once when it
// is seen again or after a change of this user's rooms. An unchanged list costs a 304, no body.
const ROOM_REFRESH_MS = 15_000;
const TYPING_TTL_MS = 3_000;
const NEAR_BOTTOM_PX = 48;
const NEAR_TOP_PX = 120;
const AVATAR_COLORS = ['#4f46e5', '#0f766e', '#b45309', '#be185d', '#1d4ed8', '#7e22ce', '#15803d', '#c2410c', '#0e7490', '#9f1239'];

const $ = (id) => document.getElementById(id);
const ui = {
  authView: $('auth-view'), authForm: $('auth-form'), username: $('username'), password: $('password'),
  loginBtn: $('login-btn'), registerBtn: $('register-btn'), authError: $('auth-error'),
  chatView: $('chat-view'), account: $('account'), me: $('me'), logoutBtn: $('logout-btn'),
  logoutAllBtn: $('logout-all-btn'),
  conn: $('conn-status'),
  joinForm: $('join-form'), roomInput: $('room-input'), roomError: $('room-error'), roomList: $('room-list'),
  currentRoom: $('current-room'), onlineCount: $('online-count'), presenceList: $('presence-list'),
  presenceTitle: $('presence-title'),
  messages: $('messages'), jumpBtn: $('jump-btn'), typing: $('typing'),
  composerForm: $('composer-form'), composeMode: $('compose-mode'), composeModeText: $('compose-mode-text'), composeModeCancel: $('compose-mode-cancel'), composer: $('composer'), mentionList: $('mention-list'), composerLabel: $('composer-label'), sendBtn: $('send-btn'),
  notice: $('notice'),
  alert: $('alert'), alertText: $('alert-text'), alertClose: $('alert-close'),
  newRoom: $('new-room'), newRoomForm: $('new-room-form'), newRoomName: $('new-room-name'),
  newRoomTopic: $('new-room-topic'), newRoomError: $('new-room-error'), newRoomBtn: $('new-room-btn'),
  dmForm: $('dm-form'), dmInput: $('dm-input'), dmError: $('dm-error'), dmBtn: $('dm-btn'),
  dmList: $('dm-list'), dmEmpty: $('dm-empty'),
  roomsToggle: $('rooms-toggle'), roomKind: $('room-kind'), roomTopic: $('room-topic'),
  membersToggle: $('members-toggle'), membersPanel: $('members-panel'), membersClose: $('members-close'),
  myRole: $('my-role'), memberList: $('member-list'), membersEmpty: $('members-empty'),
  inviteForm: $('invite-form'), inviteInput: $('invite-input'), inviteBtn: $('invite-btn'),
  membersError: $('members-error'), bans: $('bans'), banList: $('ban-list'),
  leaveRoomBtn: $('leave-room-btn'), deleteRoomBtn: $('delete-room-btn'), deleteConfirm: $('delete-confirm'),
  deleteQuestion: $('delete-question'), deleteYes: $('delete-yes'), deleteNo: $('delete-no'),
};

// Per tab, so that two tabs of one user do not overwrite each other's unsent messages; a reload keeps it.
const tabStorage = (() => { try { return window.sessionStorage; } catch { return null; } })();
const client = new ChatClient(undefined, { storage: tabStorage, session: 'cookie' });
window.parleyApp = { client };
// The admin page (admin.js): for the server's administrators only; the chat is hidden while it is open.
// ChatClient has no admin API of its own: its _request (the token, and renewing it on a 401) serves.
const admin = new AdminPage({
  request: (method, path, body) => client._request(method, path, body),
  onShow: (open) => { ui.chatView.hidden = open; },
});

let me = null;             // signed-in username
let current = null;        // room in view
let joined = [];           // rooms the user joined, persisted
let directory = new Map(); // name -> {name, kind, topic, role, with, lastSeq, online} from GET /api/rooms
let roster = { room: null, members: [], bans: [], loaded: false }; // the members panel's room and what it shows
let rosterSeq = 0;         // answers for a room no longer in view are dropped
let rosterTimer = 0;
const aboutMe = new Map(); // room -> the latest event about us in it (to say who removed or banned us)
const views = new Map();   // room -> view state, see ensureView
let refreshTimer = 0;
let refreshSoonTimer = 0;
let expiryTimer = 0;
let resumeTimer = 0;
let noticeTimer = 0;
let typingFadeTimer = 0;

// --- small helpers ----------------------------------------------------------------------

/** createElement with attributes; string children become text nodes (never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.filter((c) => c != null && c !== false));
  return node;
}

/**
 * A sentence of ours with strings people chose in it (usernames, room names, topics, reasons), as
 * nodes: each value of the template goes in a <bdi>, a bidi isolate, so that right-to-left letters
 * or bidi controls in it reorder nothing outside it (a name ending in Hebrew would otherwise swap
 * places with the words after it; a reason with U+202E would reverse the rest of the line). Its
 * textContent is the plain sentence. A tagged template: node.replaceChildren(...bidi`Message ${label}`).
 */
function bidi(strings, ...values) {
  const parts = [];
  strings.forEach((s, i) => {
    if (s) parts.push(s);
    if (i < values.length) parts.push(h('bdi', {}, String(values[i])));
  });
  return parts;
}

/** Room names, each isolated, separated by commas: "#a, #b". */
const roomList = (rooms) => rooms.flatMap((r, i) => (i ? [', ', h('bdi', {}, `#${r}`)] : [h('bdi', {}, `#${r}`)]));

const store = {
  get(key, fallback) {
    try { const v = localStorage.getItem(key); return v == null ? fallback : JSON.parse(v); } catch { return fallback; }
  },
  set(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode or full: only persistence is lost */ }
  },
  del(key) {
    try { localStorage.removeItem(key); } catch { /* same */ }
  },
};
const roomsKey = () => `parley.rooms:${me}`;
const currentKey = () => `parley.current:${me}`;

const finePointer = window.matchMedia('(pointer: fine)');
const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** @param text a sentence, or its nodes (see bidi) */
function notice(text) {
  ui.notice.replaceChildren(...(Array.isArray(text) ? text : [String(text ?? '')]));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { ui.notice.textContent = ''; }, 6_000);
}

function isAtBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
  ui.jumpBtn.hidden = true;
}

// --- session ----------------------------------------------------------------------------

/**
 * Picks up the session of this browser's cookie (a reload, a new tab). A server out of reach may
 * still hold it: the page says so and asks again, less and less often.
 */
async function resumeSession(delay = 1_000) {
  let s;
  try {
    s = await client.resume();
  } catch {
    if (me) return; // signed in by hand meanwhile
    ui.authView.hidden = false;
    ui.authError.textContent = 'Cannot reach the server. Trying again…';
    resumeTimer = setTimeout(() => resumeSession(Math.min(delay * 2, 15_000)), delay);
    return;
  }
  if (me) return;
  if (s) {
    startSession(s);
    return;
  }
  ui.authView.hidden = false;
  ui.authError.textContent = '';
  ui.username.focus();
}

/** Whether a tab of this browser logged out just now (and so ended the session this tab shared). */
function signedOutInAnotherTab() {
  const at = store.get(SIGNED_OUT_KEY, 0);
  return typeof at === 'number' && Date.now() - at < SIGNED_OUT_RECENT_MS;
}

async function authenticate(register) {
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    ui.authError.textContent = 'Enter a username and a password.';
    return;
  }
  ui.authError.textContent = '';
  for (const field of [ui.username, ui.password]) field.removeAttribute('aria-invalid');
  ui.loginBtn.disabled = ui.registerBtn.disabled = true;
  ui.authForm.setAttribute('aria-busy', 'true');
  try {
    const s = register ? await client.register(username, password) : await client.login(username, password);
    ui.password.value = '';
    startSession({ token: s.token, username: s.username ?? username, expiresAt: s.expiresAt, sessionExpiresAt: s.sessionExpiresAt });
  } catch (e) {
    showAuthError(e, username);
  } finally {
    ui.loginBtn.disabled = ui.registerBtn.disabled = false;
    ui.authForm.removeAttribute('aria-busy');
  }
}

const sentence = (text) => {
  const t = String(text ?? '').trim();
  if (!t) return 'Something went wrong. Please try again.';
  return t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
};

/** Says what the server refused in words a person can act on, and marks the field at fault. */
function showAuthError(e, username) {
  let text = sentence(e.message);
  let field = null;
  if (e.status === 409) {
    text = `The username “${username}” is taken. Pick another one, or log in if it is yours.`;
    field = ui.username;
  } else if (e.status === 401) {
    text = 'Wrong username or password.';
  } else if (e.status === 400 && /^password/i.test(e.message ?? '')) {
    field = ui.password;
  } else if (e.status === 400 && /^username/i.test(e.message ?? '')) {
    // The server states its rule as a regular expression; the default one reads better in words.
    const m = /^username must match \^\[A-Za-z0-9_.-\]\{(\d+),(\d+)\}\$$/.exec(e.message);
    if (m) text = `Usernames are ${m[1]} to ${m[2]} characters: letters, digits, “.”, “_” or “-”.`;
    field = ui.username;
  }
  ui.authError.textContent = text;
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

/** Shows the chat for the session the client holds (after login, register or resume). */
function startSession(s) {
  clearTimeout(resumeTimer);
  me = s.username;
  ui.me.textContent = me;
  ui.authError.textContent = '';
  ui.authView.hidden = true;
  ui.chatView.hidden = false;
  ui.account.hidden = false;

  const stored = [...new Set(store.get(roomsKey(), []).filter((r) => typeof r === 'string' && r))];
  joined = stored.filter((r) => client.isValidRoomName(r) || DIRECT_RE.test(r));
  // Rooms this server's rule no longer admits (its operator changed it): said, not dropped silently.
  const refused = stored.filter((r) => !joined.includes(r));
  if (refused.length) {
    store.set(roomsKey(), joined);
    ui.roomError.replaceChildren('Not joined again: ', ...roomList(refused), `. ${roomRule()}`);
  }
  client.connect();
  for (const room of joined) {
    ensureView(room);
    client.join(room, { checkName: !DIRECT_RE.test(room) });
  }
  takeUpDrafts();
  const saved = store.get(currentKey(), null);
  showRoom(joined.includes(saved) ? saved : (joined[0] ?? null));

  refreshDirectory();
  admin.probe(me);
  refreshTimer = setInterval(() => { if (!document.hidden) refreshDirectory(); }, ROOM_REFRESH_MS);
  // The session's end, warned of before: the access token within it is renewed by the client as it goes.
  scheduleSessionEnd(s.sessionExpiresAt ? expiryMillis(s.sessionExpiresAt) : expiryMillis(s.expiresAt, s.token));
  if (!joined.length) ui.roomInput.focus();
}

function endSession(reason = '') {
  admin.reset();
  if (reason && me) keepDrafts(me); // not a log out: what was typed waits for the next sign-in in this tab
  clearInterval(refreshTimer);
  clearTimeout(refreshSoonTimer);
  clearTimeout(expiryTimer);
  clearTimeout(warnTimer);
  hideSessionWarning();
  me = null; // first, so the client's closing events see a signed-out UI
  client.logout({ keepUnsent: reason !== '' }); // an expired session keeps them for the next sign-in
  for (const v of views.values()) for (const t of v.typing.values()) clearTimeout(t);
  views.clear();
  directory = new Map();
  joined = [];
  current = null;
  clearTimeout(rosterTimer);
  rosterSeq += 1;
  roster = { room: null, members: [], bans: [], loaded: false };
  memberNodes.clear();
  aboutMe.clear();
  hideAlert();
  for (const el of [ui.newRoomError, ui.dmError, ui.membersError]) el.textContent = '';
  ui.newRoomForm.reset();
  ui.newRoom.open = false;
  ui.dmInput.value = '';
  ui.memberList.replaceChildren();
  ui.banList.replaceChildren();
  ui.dmList.replaceChildren();
  ui.chatView.dataset.pane = 'rooms';
  ui.messages.replaceChildren();
  ui.roomList.replaceChildren();
  ui.presenceList.replaceChildren();
  ui.currentRoom.textContent = '';
  ui.onlineCount.textContent = '';
  ui.roomError.textContent = '';
  ui.composer.value = '';
  ui.chatView.hidden = true;
  ui.account.hidden = true;
  ui.authView.hidden = false;
  ui.authError.textContent = reason;
  updateConn(client.state);
  renderTyping();
  document.title = 'Parley';
  ui.username.focus();
}

// --- the session's end ------------------------------------------------------------------
// A browser session ends at a fixed time (CHAT_TOKEN_TTL after signing in; renewing the access token
// does not move it, PROTOCOL.md 3.2). The page says so a few minutes before, and offers to sign in
// again with the password, which starts a new session: the open connection goes on with its token,
// and the other tabs, which share the cookie, take the new session up. Whatever happens, what was
// typed and what waits to be sent is kept (drafts and parley.unsent, through the sign-in form).

const WARN_BEFORE_MS = 5 * 60_000;
/** Set by a tab that signed in again: the other tabs renew through the cookie, which is the new session's now. */
const SESSION_RENEWED_KEY = 'parley.sessionRenewed';
const sessionWarning = {
  form: $('session-warning'), text: $('session-warning-text'), password: $('session-password'),
  stay: $('session-stay'), later: $('session-later'), error: $('session-error'),
};
let sessionEnd = Infinity;
let warnTimer = 0;

const timerDelay = (ms) => Math.min(Math.max(ms, 0), 2 ** 31 - 1);

/** Warns WARN_BEFORE_MS before `end` (at once when less is left) and ends the session at `end`. */
function scheduleSessionEnd(end) {
  clearTimeout(expiryTimer);
  clearTimeout(warnTimer);
  sessionEnd = end;
  if (!Number.isFinite(end)) return;
  warnTimer = setTimeout(showSessionWarning, timerDelay(end - WARN_BEFORE_MS - Date.now()));
  expiryTimer = setTimeout(sessionOver, timerDelay(end - Date.now()));
}

function showSessionWarning() {
  if (!me || !Number.isFinite(sessionEnd)) return;
  const minutes = Math.round((sessionEnd - Date.now()) / 60_000);
  const when = minutes < 1 ? 'in less than a minute' : minutes === 1 ? 'in about a minute' : `in about ${minutes} minutes`;
  sessionWarning.form.hidden = false;
  // Set once shown, so that the alert is announced; then it stays as it is (no ticking countdown to re-announce).
  sessionWarning.text.textContent = `Your session ends at ${timeFmt.format(new Date(sessionEnd))}, ${when}. `
    + 'Enter your password to stay signed in. What you typed, and messages not yet sent, are kept either way.';
}

function hideSessionWarning() {
  sessionWarning.form.hidden = true;
  sessionWarning.text.textContent = '';
  sessionWarning.error.textContent = '';
  sessionWarning.password.value = '';
  sessionWarning.password.removeAttribute('aria-invalid');
}

/**
 * The session's end by this page's clock: the server has the last word. Another tab may have signed
 * in again (the cookie holds a later session now), or this clock may be ahead of the server's.
 */
async function sessionOver() {
  const who = me;
  if (!who) return;
  const renewed = await client.renew();
  if (me !== who) return; // ended meanwhile: the server said the session is over (`unauthorized`), or a log out
  const end = renewed ? expiryMillis(client.sessionExpiresAt) : sessionEnd;
  if (renewed && end > Date.now()) { hideSessionWarning(); scheduleSessionEnd(end); return; }
  if (renewed) { expiryTimer = setTimeout(sessionOver, 30_000); return; } // the server's clock is behind: ask again
  endSession('Your session has expired. Please log in again.');
}

/** After another tab signed in again: this tab takes up the cookie's new session, and its end. */
async function takeUpRenewedSession() {
  const who = me;
  if (!who || !(await client.renew()) || me !== who) return;
  const end = expiryMillis(client.sessionExpiresAt);
  if (end > sessionEnd) { hideSessionWarning(); scheduleSessionEnd(end); }
}

sessionWarning.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const who = me;
  const password = sessionWarning.password.value;
  if (!who) return;
  if (!password) {
    sessionWarning.error.textContent = 'Enter your password.';
    sessionWarning.password.setAttribute('aria-invalid', 'true');
    sessionWarning.password.focus();
    return;
  }
  sessionWarning.stay.disabled = true;
  try {
    const s = await client.login(who, password); // a new session, whose cookie replaces the old one's
    if (me !== who) return;
    client.refresh(s.token, s.expiresAt); // the open connection goes on, on the new session
    store.set(SESSION_RENEWED_KEY, Date.now());
    hideSessionWarning();
    scheduleSessionEnd(expiryMillis(s.sessionExpiresAt ?? client.sessionExpiresAt));
    notice(Number.isFinite(sessionEnd) ? `You are signed in until ${dayTimeFmt.format(new Date(sessionEnd))}.` : 'You are signed in again.');
    ui.composer.focus();
  } catch (e) {
    sessionWarning.error.textContent = e.status === 401 ? 'Wrong password.' : sentence(e.message);
    sessionWarning.password.setAttribute('aria-invalid', 'true');
    sessionWarning.password.focus();
  } finally {
    sessionWarning.stay.disabled = false;
  }
});
sessionWarning.password.addEventListener('input', () => {
  sessionWarning.error.textContent = '';
  sessionWarning.password.removeAttribute('aria-invalid');
});
sessionWarning.later.addEventListener('click', () => {
  hideSessionWarning();
  ui.composer.focus();
});
window.addEventListener('storage', (ev) => {
  if (ev.key === SESSION_RENEWED_KEY && ev.newValue !== null && me) takeUpRenewedSession();
});

// --- rooms ------------------------------------------------------------------------------

function ensureView(room) {
  let v = views.get(room);
  if (v) return v;
  const marker = h('li', { class: 'history-marker' }, 'Loading messages…');
  v = {
    room,
    list: h('ol', { class: 'message-list' }, marker),
    marker,
    local: new Map(),  // clientId -> li of our messages not yet echoed by the server
    unread: 0,         // others' messages after readSeq (PROTOCOL.md, read state)
    mentions: 0,       // those of them that mention the user
    readSeq: null,     // the user's read marker, as the server last told it or this tab set it
    countedTo: null,   // the seq the counts stand at (null until joined: the room list's counts stand in)
    counted: [],       // {seq, me} of the messages counted since, for a read frame that crosses them
    atBottom: true,
    scrollTop: 0,
    hasMore: true,
    typing: new Map(), // user -> timeout
  };
  views.set(room, v);
  return v;
}

/** This server's room-name rule, in words where it is the default one. */
function roomRule() {
  const { roomPattern, roomNameMaxLength } = client.limits;
  if (roomPattern === DEFAULT_LIMITS.roomPattern) {
    return `Room names are 1–${roomNameMaxLength} lowercase letters, digits, "-" or "_", starting with a letter or digit.`;
  }
  return `Room names on this server must match ${roomPattern} (at most ${roomNameMaxLength} characters).`;
}

// A direct room's name: `dm-` and 26 letters and digits (PROTOCOL.md 3.3, POST /api/dms). No other
// room can have one, so it tells a direct room before the room list has said so.
const DIRECT_RE = /^dm-[A-Za-z0-9]{26}$/;

function kindOf(room) {
  const kind = directory.get(room)?.kind;
  if (kind === 'public' || kind === 'private' || kind === 'direct') return kind;
  return DIRECT_RE.test(room) ? 'direct' : 'public';
}

const isDirect = (room) => kindOf(room) === 'direct';

/** What a person calls a room: its name, or for a direct room the other user's. */
function displayName(room) {
  const other = directory.get(room)?.with;
  return isDirect(room) && typeof other === 'string' && other ? other : room;
}

/** "#ops", or "@bob" for a direct room, in sentences. */
const roomLabel = (room) => (isDirect(room) ? `@${displayName(room)}` : `#${room}`);

const sameUser = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
const isMe = (user) => sameUser(user, me);

function joinRoom(room) {
  if (!joined.includes(room)) {
    const direct = isDirect(room);
    // A room the server lists may predate its rule: joining it fails, and says why. A direct
    // room's name is the server's own, whatever the rule.
    if (!direct && !client.isValidRoomName(room)) {
      ui.roomError.replaceChildren(...bidi`Could not join ${`#${room}`}: `, roomRule());
      return;
    }
    joined.push(room);
    store.set(roomsKey(), joined);
    ensureView(room);
    client.join(room, { checkName: !direct });
  }
  showRoom(room);
}

function leaveRoom(room) {
  client.leave(room);
  forgetRoom(room);
}

function forgetRoom(room) {
  joined = joined.filter((r) => r !== room);
  store.set(roomsKey(), joined);
  const v = views.get(room);
  if (v) for (const t of v.typing.values()) clearTimeout(t);
  views.delete(room);
  if (current === room) showRoom(joined[0] ?? null);
  else renderRooms();
  updateTitle();
}

function draftsKey(user) { return `parley.drafts:${user}`; }

function keepDrafts(user) {
  const drafts = {};
  for (const [room, v] of views) if (v.draft) drafts[room] = v.draft;
  if (current && ui.composer.value.trim()) drafts[current] = ui.composer.value;
  try {
    if (Object.keys(drafts).length) tabStorage?.setItem(draftsKey(user), JSON.stringify(drafts));
  } catch { /* full or private mode: the drafts are lost, as before */ }
}

function takeUpDrafts() {
  let drafts = null;
  try {
    drafts = JSON.parse(tabStorage?.getItem(draftsKey(me)) ?? 'null');
    tabStorage?.removeItem(draftsKey(me));
  } catch { /* unreadable: nothing to take up */ }
  if (!drafts || typeof drafts !== 'object') return;
  for (const [room, text] of Object.entries(drafts)) {
    const v = views.get(room);
    if (v && typeof text === 'string') v.draft = text;
  }
}

function showRoom(room) {
  const prev = current && views.get(current);
  if (prev) { prev.atBottom = isAtBottom(); prev.scrollTop = ui.messages.scrollTop; prev.draft = ui.composer.value; }
  const changed = current !== room;
  current = room;
  if (me) store.set(currentKey(), room);
  const v = room ? ensureView(room) : null;
  // On a phone one pane shows at a time: the room, or the list to pick one from.
  ui.chatView.dataset.pane = room ? 'room' : 'rooms';
  if (changed) setMembersOpen(false);
  if (changed && composing) setComposing(null);
  renderRoomHeader();
  if (v) ui.messages.replaceChildren(v.list);
  else ui.messages.replaceChildren(h('p', { class: 'empty-state' }, 'Join a room to start chatting.'));
  ui.composer.disabled = ui.sendBtn.disabled = !v;
  ui.composer.placeholder = v ? `Message ${roomLabel(room)}` : 'Join a room to start chatting';
  ui.composerLabel.replaceChildren(...(v ? bidi`Message ${roomLabel(room)}` : ['Message']));
  // Each room keeps what was typed in it: text typed for one room must not be sent to another.
  ui.composer.value = v?.draft ?? '';
  if (suggesting) closeSuggestions();
  autosize();
  ui.jumpBtn.hidden = true;
  if (v) {
    if (v.atBottom) scrollToBottom(); else ui.messages.scrollTop = v.scrollTop;
    if (finePointer.matches) ui.composer.focus();
  }
  renderRooms();
  if (changed) revealCurrentRoom();
  renderPresence();
  renderTyping();
  updateTitle();
  maybeLoadOlder();
  if (changed || !roster.loaded) loadRoster();
  markSeen();
}

// --- read state (PROTOCOL.md, read state): the server's counts, shared by every tab and device ---

/** Whether the user sees the newest message of the room in view: the page is shown and scrolled to the bottom. */
const seeingNewest = () => !!current && !document.hidden && isAtBottom();

/**
 * The user has seen the room in view up to its newest message: its counts go to 0 here, and the
 * server is told (at most once a second a room), which tells this user's other tabs and devices.
 */
function markSeen() {
  const v = current && views.get(current);
  if (!v || !seeingNewest()) return;
  const last = client.lastSeq(current);
  if (!Number.isInteger(last) || last <= (v.readSeq ?? -1)) return;
  v.readSeq = last;
  v.unread = 0;
  v.mentions = 0;
  v.counted = [];
  client.markRead(current, last);
  renderRooms();
  updateTitle();
}

/** A read state the server told (joined, read, the room list): taken if it is not older than what the view has. */
function applyRead(v, { readSeq, lastSeq, unread, mentions }) {
  if (readSeq === null || (v.readSeq !== null && readSeq < v.readSeq)) return false;
  v.readSeq = readSeq;
  // What this tab counted after the server's lastSeq is not in the server's counts.
  v.counted = v.counted.filter((c) => c.seq > readSeq);
  const later = v.counted.filter((c) => c.seq > lastSeq);
  v.unread = unread + later.length;
  v.mentions = mentions + later.filter((c) => c.me).length;
  if (v.countedTo === null || v.countedTo < lastSeq) v.countedTo = lastSeq;
  return true;
}

/** One more message in a joined room: counted if someone else's, after the marker and the counts. */
function countMessage(v, m) {
  if (v.countedTo === null || !Number.isInteger(m.seq) || m.seq <= v.countedTo) return;
  v.countedTo = m.seq;
  if (isMe(m.from) || m.seq <= (v.readSeq ?? -1)) return;
  const mentionsMe = mentionsOf(m).some(isMe);
  v.counted.push({ seq: m.seq, me: mentionsMe });
  v.unread += 1;
  if (mentionsMe) v.mentions += 1;
}

/** The counts a room's badges show: its view's once joined, else the room list's. */
function countsOf(name) {
  const v = views.get(name);
  if (v && v.countedTo !== null) return v;
  return readState(directory.get(name));
}

const mentionsOf = (m) => (Array.isArray(m.mentions) ? m.mentions : []);

const sidebar = $('sidebar');
const currentItem = () => (current ? ui.roomList.querySelector('li[data-current]') ?? ui.dmList.querySelector('li[data-current]') : null);
const listShown = () => sidebar.getClientRects().length > 0; // not display:none (a phone showing the room)

/** Whether the room in view is (at least partly) within the list's scrolled box; false while the list is not shown. */
function currentRoomShown() {
  const item = currentItem();
  if (!item || !listShown()) return false;
  const r = item.getBoundingClientRect();
  const box = sidebar.getBoundingClientRect();
  return r.bottom > box.top && r.top < box.bottom;
}

/**
 * Scrolls the list of rooms so that the room in view is in it: after a reload, when a phone goes back
 * to the list, when a room is opened from elsewhere (a direct message from the members panel), with
 * more rooms than the list has room for. Only the sidebar scrolls: Element.scrollIntoView would move
 * every box around it too. Nothing happens while the list is not shown (a phone showing the room).
 */
function revealCurrentRoom() {
  const item = currentItem();
  if (!item || !listShown()) return;
  const margin = 8;
  const r = item.getBoundingClientRect();
  const box = sidebar.getBoundingClientRect();
  if (r.top < box.top + margin) sidebar.scrollTop -= box.top + margin - r.top;
  else if (r.bottom > box.bottom - margin) sidebar.scrollTop += r.bottom - (box.bottom - margin);
}

/** The name, kind and topic of the room in view; they may arrive after it is shown (the room list). */
function renderRoomHeader() {
  const room = current;
  ui.currentRoom.textContent = room ? displayName(room) : '';
  ui.currentRoom.dataset.room = room ?? '';
  ui.currentRoom.dataset.kind = room ? kindOf(room) : '';
  ui.roomKind.hidden = !room || kindOf(room) !== 'private';
  const topic = room ? directory.get(room)?.topic : null;
  ui.roomTopic.textContent = typeof topic === 'string' ? topic : '';
  if (room) {
    ui.composer.placeholder = `Message ${roomLabel(room)}`;
    ui.composerLabel.replaceChildren(...bidi`Message ${roomLabel(room)}`);
    const v = views.get(room);
    if (v && !v.hasMore && v.marker.textContent) v.marker.textContent = beginning(room);
  }
}

const beginning = (room) => ((views.get(room)?.historyStart ?? 1) > 1
  ? 'History starts here: older messages were removed by the room\'s retention.'
  : isDirect(room)
    ? `This is the beginning of your conversation with ${displayName(room)}.`
    : `This is the beginning of #${room}.`);

async function refreshDirectory() {
  const who = me;
  if (!who) return;
  try {
    const list = await client.rooms();
    if (me !== who) return;
    // Every room the server lists is shown, whatever this page thinks of its name.
    const roleBefore = current ? directory.get(current)?.role : undefined;
    const shown = currentRoomShown(); // rooms listed above it must not push it out of sight
    directory = new Map((Array.isArray(list) ? list : [])
      .filter((r) => r && typeof r.name === 'string' && r.name)
      .map((r) => [r.name, r]));
    // The stored marker wins: a read made elsewhere whose frame this tab missed is taken here.
    for (const [name, entry] of directory) {
      const v = views.get(name);
      if (v && v.countedTo !== null && Number.isInteger(entry.lastSeq)) applyRead(v, { ...readState(entry), lastSeq: entry.lastSeq });
    }
    renderRooms();
    updateTitle();
    if (shown) revealCurrentRoom();
    renderRoomHeader();
    if (current && directory.get(current)?.role !== roleBefore) renderRoster();
  } catch {
    // Transient: the next tick retries; a 401 has already signed us out via `unauthorized`.
  }
}

function refreshDirectorySoon() {
  clearTimeout(refreshSoonTimer);
  refreshSoonTimer = setTimeout(refreshDirectory, 300);
}

const othersLabel = h('li', { class: 'group-label', 'aria-hidden': 'true' }, 'Other rooms');

function renderRooms() {
  const direct = [...new Set([...joined, ...directory.keys()])].filter(isDirect)
    .sort((a, b) => collator.compare(displayName(a), displayName(b)));
  const mine = joined.filter((n) => !isDirect(n)).sort(collator.compare);
  const others = [...directory.keys()].filter((n) => !joined.includes(n) && !isDirect(n)).sort(collator.compare);
  const existing = new Map();
  for (const list of [ui.roomList, ui.dmList]) for (const li of list.children) if (li.dataset.room) existing.set(li.dataset.room, li);
  const wanted = mine.map((n) => roomItem(existing.get(n), n, true));
  if (others.length) wanted.push(othersLabel);
  for (const n of others) wanted.push(roomItem(existing.get(n), n, false));
  place(ui.roomList, wanted);
  place(ui.dmList, direct.map((n) => roomItem(existing.get(n), n, joined.includes(n))));
  ui.dmEmpty.hidden = direct.length > 0;
}

/** Puts `wanted` in `list`; re-inserting nodes would drop keyboard focus, so only when the order changed. */
function place(list, wanted) {
  const kids = list.children;
  if (wanted.length !== kids.length || wanted.some((n, i) => kids[i] !== n)) list.replaceChildren(...wanted);
}

function roomItem(li, name, isJoined) {
  if (!li) {
    li = h('li', { class: 'room', 'data-room': name },
      // Named by its content, so that the name starts with the room's name as shown (WCAG 2.5.3, label
      // in name: "click ops" works by voice): the badges' words are said once, by .room-state.
      h('button', { type: 'button', class: 'room-btn' },
        h('span', { class: 'room-name' }, name),
        h('span', { class: 'kind-badge', hidden: true, 'aria-hidden': 'true' }, 'private'),
        h('span', { class: 'online', 'aria-hidden': 'true' }),
        h('span', { class: 'unread', hidden: true, 'aria-hidden': 'true' }),
        h('span', { class: 'mentions', hidden: true, 'aria-hidden': 'true' }),
        h('span', { class: 'room-state visually-hidden' })),
      h('button', { type: 'button', class: 'leave-btn' }, '×'));
  }
  const kind = kindOf(name);
  const shown = displayName(name);
  li.dataset.kind = kind;
  if (kind === 'direct') li.dataset.with = shown; else delete li.dataset.with;
  const nameNode = li.querySelector('.room-name');
  if (nameNode.textContent !== shown) nameNode.textContent = shown;
  li.querySelector('.kind-badge').hidden = kind !== 'private';
  const leave = li.querySelector('.leave-btn');
  const leaveLabel = kind === 'direct' ? `Close the conversation with ${shown}` : `Leave #${name}`;
  leave.setAttribute('aria-label', leaveLabel);
  leave.title = leaveLabel;
  const { unread, mentions } = countsOf(name);
  const online = client.online(name) ?? directory.get(name)?.online ?? 0;
  const isCurrent = name === current;
  li.dataset.joined = String(isJoined);
  if (isCurrent) li.dataset.current = 'true'; else delete li.dataset.current;
  const btn = li.querySelector('.room-btn');
  if (isCurrent) btn.setAttribute('aria-current', 'page'); else btn.removeAttribute('aria-current');
  btn.querySelector('.room-state').textContent = [kind === 'private' ? 'private' : '', `${online} online`,
    unread ? `${unread} unread` : '', mentions ? `@${mentions} ${mentions === 1 ? 'mention' : 'mentions'}` : '',
    isJoined ? '' : 'not joined'].filter(Boolean).map((s) => `, ${s}`).join('');
  li.querySelector('.online').textContent = String(online);
  const badge = li.querySelector('.unread');
  badge.textContent = unread ? String(unread) : '';
  badge.hidden = !(unread > 0);
  const mentionBadge = li.querySelector('.mentions');
  mentionBadge.textContent = mentions ? `@${mentions}` : '';
  mentionBadge.hidden = !(mentions > 0);
  li.classList.toggle('has-unread', unread > 0);
  li.querySelector('.leave-btn').hidden = !isJoined;
  return li;
}

function updateTitle() {
  let total = 0;
  for (const name of new Set([...views.keys(), ...directory.keys()])) total += countsOf(name).unread;
  document.title = total ? `(${total}) Parley` : 'Parley';
}

// --- messages ---------------------------------------------------------------------------

function avatarColor(name) {
  let x = 0;
  for (const ch of name) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return AVATAR_COLORS[x % AVATAR_COLORS.length];
}

// A link ends at a direction control (U+061C, U+200E-F, U+202A-E, U+2066-9) as at a space: within
// it, one would draw the address in another order than it goes to.
const URL_RE = /\bhttps?:\/\/[^\s<>"'\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;
const CLOSING = { ')': '(', ']': '[', '}': '{' };

/**
 * A URL as found in text, less what belongs to the sentence around it: trailing punctuation, and a
 * closing bracket with no opening one in the URL ("(see https://x.org/a_(b))" links x.org/a_(b),
 * "(https://x.org)" links x.org). Brackets that pair up inside a URL stay in it. Null when nothing
 * is left after the scheme.
 */
function trimUrl(url) {
  const count = (ch) => url.split(ch).length - 1;
  for (;;) {
    const end = url.slice(-1);
    if ((end && '.,;:!?'.includes(end)) || (CLOSING[end] && count(CLOSING[end]) < count(end))) url = url.slice(0, -1);
    else return /^https?:\/\/./.test(url) ? url : null;
  }
}

/** Text with http(s) links as <a>; everything else stays plain text nodes. */
function linkify(text) {
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = trimUrl(m[0]);
    if (!url) continue;
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, url));
    last = m.index + url.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** A message's text as nodes: links, and the names it mentions. */
const textNodes = (m) => linkify(String(m.text ?? '')).flatMap((part) => (typeof part === 'string' ? mentionify(part, mentionsOf(m)) : [part]));

const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** Whom a text mentions, by PROTOCOL.md's rule (event.Mentions on the server): for an edit, whose event carries no list. */
function mentionsIn(text) {
  const out = [];
  for (let at = text.indexOf('@'); at >= 0 && out.length < 20; at = text.indexOf('@', at + 1)) {
    if (at > 0 && NAME_CHAR.test(text[at - 1])) continue;
    let end = at + 1;
    while (end < text.length && NAME_CHAR.test(text[end])) end++;
    while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
    const name = text.slice(at + 1, end);
    if (name && name.length <= 64 && !out.some((u) => u.toLowerCase() === name.toLowerCase())) out.push(name);
  }
  return out;
}

/** Text with the @names the message mentions (its `mentions`, PROTOCOL.md) as .mention spans; the rest plain text. */
function mentionify(text, mentions) {
  if (!mentions.length || !text.includes('@')) return [text];
  const names = new Set(mentions.map((u) => u.toLowerCase()));
  const parts = [];
  let last = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    if (at > 0 && NAME_CHAR.test(text[at - 1])) continue;
    let end = at + 1;
    while (end < text.length && NAME_CHAR.test(text[end])) end++;
    while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
    const name = text.slice(at + 1, end);
    if (!name || !names.has(name.toLowerCase())) continue;
    if (at > last) parts.push(text.slice(last, at));
    parts.push(h('span', { class: isMe(name) ? 'mention me' : 'mention', 'data-user': name }, `@${name}`));
    last = end;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function setTime(node, iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) { node.textContent = ''; return; }
  node.dateTime = d.toISOString();
  node.textContent = (d.toDateString() === new Date().toDateString() ? timeFmt : dayTimeFmt).format(d);
  node.title = fullFmt.format(d);
}

function messageNode(m, status) {
  const from = String(m.from ?? '?');
  const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' }, ([...from][0] ?? '?').toUpperCase());
  avatar.style.backgroundColor = avatarColor(from);
  const time = h('time', { class: 'time' });
  const quote = Number.isInteger(m.replyTo) ? h('div', { class: 'quote', 'data-reply-to': String(m.replyTo) }) : null;
  const li = h('li', { class: from === me ? 'message own' : 'message', 'data-from': from, ...(m.bot === true ? { 'data-bot': 'true' } : {}) },
    avatar,
    h('div', { class: 'body' },
      h('div', { class: 'meta' }, h('span', { class: 'from' }, from),
        // A bot's message says so, in words a screen reader reads out too: a bot may carry any name.
        ...(m.bot === true ? [h('span', { class: 'bot-badge', title: 'sent by a bot account' }, 'BOT')] : []),
        time, h('span', { class: 'status' })),
      ...(quote ? [quote] : []),
      h('div', { class: 'text' }),
      h('div', { class: 'reactions' }),
      h('div', { class: 'actions' })));
  if (m.clientId) li.dataset.clientId = m.clientId;
  // What the message is now (PROTOCOL.md, changes of a message): its events change this, and it is drawn from it.
  li.msg = {
    room: m.room, text: String(m.text ?? ''), deleted: m.deleted === true, editedAt: m.editedAt ?? null, replyTo: m.replyTo ?? null,
    reactions: (m.reactions ?? []).map((r) => ({ ...r, users: [...r.users] })), lastChange: m.lastChange ?? 0,
    mentions: mentionsOf(m),
  };
  setTime(time, m.ts);
  setStatus(li, status, m.seq);
  renderMessage(li);
  return li;
}

// --- the changes of a message: edit, delete, reply, react (PROTOCOL.md) ---------------------

const CHANGE_EVENTS = new Set(['edited', 'deleted', 'reaction']);
const PICKER_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '✅'];
let composing = null; // { mode: 'edit' | 'reply', room, seq }: what the composer's next Enter does

/** Draws a message from its `msg`: text or the deleted placeholder, the edited mark, reactions, and what we may do with it. */
function renderMessage(li) {
  const m = li.msg;
  li.classList.toggle('deleted', m.deleted);
  li.classList.toggle('mentions-me', !m.deleted && mentionsOf(m).some(isMe));
  const text = li.querySelector('.text');
  if (m.deleted) {
    text.replaceChildren(h('em', { class: 'placeholder' }, 'This message was deleted'));
  } else {
    text.replaceChildren(...textNodes(m));
    if (m.editedAt) {
      const d = new Date(m.editedAt);
      text.append(' ', h('span', { class: 'edited', title: Number.isNaN(d.getTime()) ? '' : `Edited ${fullFmt.format(d)}` }, '(edited)'));
    }
  }
  const reactions = li.querySelector('.reactions');
  reactions.replaceChildren(...(m.deleted ? [] : m.reactions.filter((r) => r.count > 0).map((r) => {
    const others = r.count - r.users.length;
    const who = r.users.join(', ') + (others > 0 ? ` and ${others} more` : '');
    // The name is the visible text (the emoji and its count); who reacted is in the title, on hover.
    return h('button', { type: 'button', class: 'reaction', 'data-emoji': r.emoji, 'aria-pressed': String(r.users.some(isMe)), title: who },
      `${r.emoji} ${r.count}`);
  })));
  const actions = li.querySelector('.actions');
  const room = m.room ?? current;
  const sent = li.dataset.status === 'sent' && li.dataset.seq;
  const own = isMe(li.dataset.from);
  const staff = room && !isDirect(room) && ['owner', 'moderator'].includes(myRole(room));
  actions.replaceChildren(...(!sent || m.deleted ? [] : [
    h('button', { type: 'button', class: 'reply-btn link-btn' }, 'Reply'),
    h('button', { type: 'button', class: 'react-btn link-btn', 'aria-expanded': 'false' }, 'React'),
    ...(own ? [h('button', { type: 'button', class: 'edit-btn link-btn' }, 'Edit')] : []),
    ...(own || staff ? [h('button', { type: 'button', class: 'delete-btn link-btn' }, 'Delete')] : []),
  ]));
  if (li.dataset.seq) for (const q of li.parentElement?.querySelectorAll(`.quote[data-reply-to="${li.dataset.seq}"]`) ?? []) fillQuote(q);
  const ownQuote = li.querySelector('.quote');
  if (ownQuote) fillQuote(ownQuote);
}

/** A reply's quote of what it answers: the original's sender and words, or that it was deleted (or is not loaded). */
function fillQuote(q) {
  const original = q.closest('ol, ul')?.querySelector(`li.message[data-seq="${q.dataset.replyTo}"]`);
  if (!original) { q.textContent = 'In reply to an earlier message'; return; }
  if (original.msg.deleted) { q.textContent = 'In reply to a message: the original was deleted'; return; }
  const words = [...original.msg.text];
  q.replaceChildren(`In reply to `, h('bdi', { class: 'quote-from' }, original.dataset.from), ': ',
    h('bdi', { class: 'quote-text' }, words.length > 120 ? `${words.slice(0, 120).join('')}…` : original.msg.text));
}

/** An edit, deletion or reaction event applied to its message, if it is shown and does not hold it already. */
function applyChange(v, m) {
  const ev = m.event;
  const li = v.list.querySelector(`li.message[data-seq="${ev.seq}"]`);
  if (!li || !(m.seq > li.msg.lastChange)) return;
  const msg = li.msg;
  msg.lastChange = m.seq;
  if (ev.type === 'edited' && typeof ev.text === 'string') {
    msg.text = ev.text;
    msg.editedAt = m.ts;
    msg.mentions = mentionsIn(ev.text); // the server's rule (PROTOCOL.md, mentions): an edit's list is the new text's
  } else if (ev.type === 'deleted') {
    Object.assign(msg, { deleted: true, text: '', reactions: [], editedAt: null, mentions: [] });
    if (composing?.seq === ev.seq && composing.room === v.room) setComposing(null);
  } else if (ev.type === 'reaction' && typeof ev.emoji === 'string' && typeof ev.user === 'string') {
    let r = msg.reactions.find((x) => x.emoji === ev.emoji);
    if (ev.on) {
      if (!r) msg.reactions.push(r = { emoji: ev.emoji, count: 0, users: [] });
      r.count += 1;
      if (!r.users.some((u) => sameUser(u, ev.user))) r.users.push(ev.user);
    } else if (r) {
      r.count -= 1;
      r.users = r.users.filter((u) => !sameUser(u, ev.user));
      if (r.count <= 0) msg.reactions = msg.reactions.filter((x) => x !== r);
    }
  }
  mutate(v, () => renderMessage(li));
}

/** The composer's mode: editing our message `seq`, replying to `seq`, or (null) a new message. */
function setComposing(next) {
  const was = composing;
  composing = next;
  ui.composeMode.hidden = !next;
  if (!next) {
    if (was?.mode === 'edit') { ui.composer.value = ''; autosize(); }
    return;
  }
  const li = views.get(next.room)?.list.querySelector(`li.message[data-seq="${next.seq}"]`);
  if (next.mode === 'edit') {
    ui.composeModeText.textContent = 'Editing your message (Esc to cancel)';
    ui.composer.value = li?.msg.text ?? '';
    autosize();
  } else {
    const words = [...(li?.msg.text ?? '')];
    ui.composeModeText.replaceChildren('Replying to ', h('bdi', {}, li?.dataset.from ?? ''), ': ',
      h('bdi', {}, words.length > 80 ? `${words.slice(0, 80).join('')}…` : (li?.msg.text ?? '')));
  }
  ui.composer.focus();
}

/** Up-arrow in an empty composer: edit our last message in the room in view. */
function editLast() {
  const v = current && views.get(current);
  const mine = v ? [...v.list.querySelectorAll('li.message.own[data-status="sent"][data-seq]:not(.deleted)')] : [];
  const last = mine[mine.length - 1];
  if (!last) return false;
  setComposing({ mode: 'edit', room: current, seq: Number(last.dataset.seq) });
  return true;
}

/** A click inside a message: one of its actions, its reactions, or the emoji picker. */
function onMessageAction(li, target) {
  const seq = Number(li.dataset.seq);
  const room = current;
  const run = (f) => { try { f(); } catch (e) { notice(e.message); } };
  if (target.closest('.reply-btn')) {
    setComposing({ mode: 'reply', room, seq });
  } else if (target.closest('.edit-btn')) {
    setComposing({ mode: 'edit', room, seq });
  } else if (target.closest('.delete-btn')) {
    const b = target.closest('.delete-btn');
    // Two presses: the first asks, in the button's own words, so that a slip deletes nothing.
    if (b.dataset.confirm !== 'yes') { b.dataset.confirm = 'yes'; b.textContent = 'Delete for everyone?'; return; }
    run(() => client.deleteMessage(room, seq));
  } else if (target.closest('.react-btn')) {
    const b = target.closest('.react-btn');
    const open = b.getAttribute('aria-expanded') === 'true';
    li.querySelector('.picker')?.remove();
    b.setAttribute('aria-expanded', String(!open));
    if (!open) {
      li.querySelector('.actions').after(h('div', { class: 'picker', role: 'group', 'aria-label': 'Pick a reaction' },
        ...PICKER_EMOJI.map((e) => h('button', { type: 'button', class: 'pick', 'data-emoji': e, title: `React with ${e}` }, e))));
      li.querySelector('.pick')?.focus();
    }
  } else if (target.closest('.pick')) {
    const emoji = target.closest('.pick').dataset.emoji;
    li.querySelector('.picker')?.remove();
    li.querySelector('.react-btn')?.setAttribute('aria-expanded', 'false');
    const mine = li.msg.reactions.find((r) => r.emoji === emoji)?.users.some(isMe);
    run(() => client.react(room, seq, emoji, !mine));
  } else if (target.closest('.reaction')) {
    const b = target.closest('.reaction');
    run(() => client.react(room, seq, b.dataset.emoji, b.getAttribute('aria-pressed') !== 'true'));
  }
}

/** A room event (PROTOCOL.md "Room events") as a line of its own, in the server's words. */
function eventNode(m) {
  const time = h('time', { class: 'time' });
  const li = h('li', { class: 'event', 'data-event': m.event.type, 'data-from': String(m.from ?? '') },
    h('span', { class: 'event-text' }, String(m.text ?? m.event.type)), time);
  if (Number.isInteger(m.seq)) li.dataset.seq = String(m.seq);
  setTime(time, m.ts);
  return li;
}

// The changes of a message are drawn on the message itself, not as lines of their own.
const lineNode = (m) => (m.event ? (CHANGE_EVENTS.has(m.event.type) ? null : eventNode(m)) : messageNode(m, 'sent'));

// Events after which the member list is not what it was.
const ROSTER_EVENTS = new Set(['member_added', 'role_changed', 'muted', 'unmuted', 'member_removed', 'member_left', 'banned', 'unbanned']);

/** What a live (or replayed) event changes beyond its line: the member list, our role, why we were taken out. */
function onRoomEvent(room, ev) {
  if (isMe(ev.user) || ev.type === 'room_deleted') aboutMe.set(room, ev);
  const entry = directory.get(room);
  if (entry && isMe(ev.user) && (ev.type === 'role_changed' || ev.type === 'member_added') && typeof ev.role === 'string') {
    entry.role = ev.role;
  }
  if (room === current && ROSTER_EVENTS.has(ev.type)) refreshRosterSoon();
  if (isMe(ev.user)) refreshDirectorySoon();
}

// Refusals about the message itself: sending the same text again would be refused again.
const FINAL_REFUSALS = new Set(['too_large', 'bad_request', 'forbidden']);

function setStatus(li, status, seq, reason, code) {
  li.dataset.status = status;
  if (seq != null) li.dataset.seq = String(seq);
  li.querySelector('.status').textContent = status === 'sending' ? 'Sending…'
    : status === 'failed' ? `Not sent${reason ? `: ${reason}` : ''}` : '';
  let retry = li.querySelector('.retry-btn');
  if (status === 'failed' && !retry && !FINAL_REFUSALS.has(code)) {
    retry = h('button', { type: 'button', class: 'retry-btn link-btn' }, 'Retry');
    li.querySelector('.meta').append(retry);
  } else if (status !== 'failed' && retry) {
    retry.remove();
  }
  // A refused message is kept, across reloads too, until it is sent or thrown away.
  let discard = li.querySelector('.discard-btn');
  if (status === 'failed' && !discard) {
    discard = h('button', { type: 'button', class: 'discard-btn link-btn' }, 'Discard');
    li.querySelector('.meta').append(discard);
  } else if (status !== 'failed' && discard) {
    discard.remove();
  }
}

/** Applies a change to a room's list, keeping the view pinned to the bottom if it was there. */
function mutate(v, change, forceBottom = false) {
  if (v.room !== current) { change(); return; }
  const stick = forceBottom || isAtBottom();
  change();
  if (stick) scrollToBottom(); else ui.jumpBtn.hidden = false;
}

function onMessage({ room, message: m, pending }) {
  const v = views.get(room);
  if (!v) return;
  if (pending) {
    const li = messageNode(m, 'sending');
    li.classList.add('local');
    v.local.set(m.clientId, li);
    mutate(v, () => v.list.append(li), true);
    const quote = li.querySelector('.quote');
    if (quote) fillQuote(quote);
    return;
  }
  if (m.event && CHANGE_EVENTS.has(m.event.type)) {
    applyChange(v, m);
    return;
  }
  if (m.event) {
    const line = eventNode(m);
    mutate(v, () => v.list.insertBefore(line, v.list.querySelector(':scope > .local')));
    onRoomEvent(room, m.event);
    return;
  }
  let li = m.from === me && m.clientId ? v.local.get(m.clientId) : undefined;
  if (li) {
    v.local.delete(m.clientId);
    li.classList.remove('local');
    setStatus(li, 'sent', m.seq);
    setTime(li.querySelector('.time'), m.ts);
    li.msg.mentions = mentionsOf(m); // shown as typed until now: the server says whom it mentions
    renderMessage(li); // its actions, now that it has a seq
  } else {
    li = messageNode(m, 'sent');
  }
  countMessage(v, m);
  // Confirmed messages are in seq order; our unconfirmed ones stay below them.
  mutate(v, () => v.list.insertBefore(li, v.list.querySelector(':scope > .local')));
  const quote = li.querySelector('.quote');
  if (quote) fillQuote(quote);
  stopTyping(v, m.from);
  if (room === current) markSeen();
  renderRooms();
  updateTitle();
}

function onHistory({ room, messages, hasMore, initial, historyStart }) {
  const v = views.get(room);
  if (!v) return;
  v.historyStart = historyStart;
  v.hasMore = hasMore;
  v.marker.textContent = hasMore ? '' : beginning(room);
  if (messages.length) {
    const frag = document.createDocumentFragment();
    for (const m of messages) { const line = lineNode(m); if (line) frag.append(line); }
    if (room !== current) {
      v.marker.after(frag);
    } else {
      const box = ui.messages;
      const stick = initial || isAtBottom();
      const height = box.scrollHeight;
      const top = box.scrollTop;
      v.marker.after(frag);
      // Keep what the reader was looking at in place while the page grows above it.
      if (stick) scrollToBottom(); else box.scrollTop = top + (box.scrollHeight - height);
    }
  }
  // Replies shown before the page that holds what they answer can quote it now.
  for (const q of v.list.querySelectorAll('.quote')) fillQuote(q);
  if (room === current) { maybeLoadOlder(); markSeen(); }
}

function maybeLoadOlder() {
  const v = current && views.get(current);
  if (!v || !v.hasMore) return;
  const box = ui.messages;
  if (box.scrollTop > NEAR_TOP_PX && box.scrollHeight > box.clientHeight) return;
  if (client.loadOlder(current)) v.marker.textContent = 'Loading older messages…';
}

function sendCurrent() {
  const text = ui.composer.value;
  if (!current || !text.trim()) return;
  const mode = composing?.room === current ? composing : null;
  try {
    if (mode?.mode === 'edit') client.edit(current, mode.seq, text);
    else client.send(current, text, mode?.mode === 'reply' ? { replyTo: mode.seq } : {});
  } catch (e) {
    notice(e.message);
    return;
  }
  composing = null;
  ui.composeMode.hidden = true;
  ui.composer.value = '';
  autosize();
  ui.composer.focus(); // after a click or tap on Send, the next message can be typed at once
}

function autosize() {
  ui.composer.style.height = 'auto';
  ui.composer.style.height = `${Math.min(ui.composer.scrollHeight + 2, 200)}px`;
}

// --- members and moderation (PROTOCOL.md 3.3) ----------------------------------------------

const memberNodes = new Map(); // username -> li, kept between renders (focus, a ban reason being typed)
const ROLE_ORDER = { owner: 0, moderator: 1, member: 2 };
const MUTE_FOR_MS = 60 * 60 * 1000;

/** Our role in the room in view: from its member list once loaded (newer), else from the room list. */
function myRole(room) {
  if (roster.room === room && roster.loaded && !roster.error) {
    return roster.members.find((m) => isMe(m.user))?.role ?? null;
  }
  return directory.get(room)?.role ?? null;
}

/**
 * What we may do in `room`, by the table of PROTOCOL.md 3.3 and our room role alone (an
 * administrator's wider rights are the server's to grant: the page offers what the role allows).
 */
function permissions(room) {
  const role = myRole(room);
  const direct = isDirect(room);
  const staff = !direct && (role === 'owner' || role === 'moderator');
  return {
    role,
    direct,
    invite: staff,
    bans: staff,
    // A moderator acts on members only; the owner on anyone but the owner. Never on oneself.
    moderate: (m) => staff && !isMe(m.user) && m.role !== 'owner' && (role === 'owner' || m.role === 'member'),
    setRole: (m) => !direct && role === 'owner' && !isMe(m.user) && m.role !== 'owner',
    leave: !direct && (role === 'member' || role === 'moderator'),
    remove: !direct && role === 'owner',
  };
}

function mutedUntil(m) {
  const t = typeof m.mutedUntil === 'string' ? Date.parse(m.mutedUntil) : NaN;
  return Number.isFinite(t) && t > Date.now() ? new Date(t) : null;
}

async function loadRoster() {
  const room = current;
  const seq = ++rosterSeq;
  clearTimeout(rosterTimer);
  if (!room) { renderRoster(); return; }
  if (roster.room !== room) {
    roster = { room, members: [], bans: [], loaded: false };
    memberNodes.clear();
    ui.memberList.replaceChildren();
    ui.membersError.textContent = '';
    renderRoster();
  }
  let next;
  try {
    next = { room, members: await client.roomMembers(room), bans: [], loaded: true };
  } catch (e) {
    next = { room, members: [], bans: [], loaded: true, error: e };
  }
  if (seq !== rosterSeq || current !== room) return;
  roster = next;
  const entry = directory.get(room);
  if (entry && !next.error) entry.role = myRole(room);
  if (!next.error && permissions(room).bans) {
    try {
      const bans = await client.bans(room);
      if (seq !== rosterSeq || current !== room) return;
      roster.bans = bans;
    } catch { /* not allowed after all, or gone: no list of bans */ }
  }
  renderRoster();
}

function refreshRosterSoon() {
  clearTimeout(rosterTimer);
  rosterTimer = setTimeout(loadRoster, 150);
}

function actionButton(cls, text, label) {
  return h('button', { type: 'button', class: `${cls} link-btn`, 'aria-label': label, title: label }, text);
}

function memberNode(user) {
  let li = memberNodes.get(user);
  if (li) return li;
  const reason = h('input', { type: 'text', class: 'ban-reason', maxlength: 250, autocomplete: 'off' });
  li = h('li', { class: 'member', 'data-user': user },
    h('div', { class: 'member-line' },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'member-name' }, user),
      h('span', { class: 'role' }),
      h('span', { class: 'muted-until' })),
    h('div', { class: 'member-actions' },
      actionButton('dm-btn', 'Message', `Message ${user}`),
      actionButton('mute-btn', 'Mute', `Mute ${user} for 1 hour`),
      actionButton('unmute-btn', 'Unmute', `Unmute ${user}`),
      actionButton('role-btn', '', ''),
      actionButton('remove-btn', 'Remove', `Remove ${user} from the room`),
      actionButton('ban-btn', 'Ban', `Ban ${user}`)),
    h('form', { class: 'ban-form', hidden: true, novalidate: true },
      h('label', { class: 'ban-label' }, `Why ban ${user}? (optional)`, reason),
      h('div', { class: 'ban-row' },
        h('button', { type: 'submit', class: 'ban-confirm danger small', 'aria-label': `Confirm: ban ${user}` }, 'Ban'),
        h('button', { type: 'button', class: 'ban-cancel secondary small' }, 'Cancel'))));
  memberNodes.set(user, li);
  return li;
}

function renderRoster() {
  const room = current;
  ui.membersPanel.hidden = !room;
  ui.membersToggle.hidden = !room;
  if (!room) return;
  const perm = permissions(room);
  const online = new Set(client.members(room).map((u) => u.toLowerCase()));
  const mine = roster.room === room ? roster : { members: [], bans: [], loaded: false };
  const members = [...mine.members].filter((m) => m && typeof m.user === 'string')
    .sort((a, b) => (ROLE_ORDER[a.role] ?? 3) - (ROLE_ORDER[b.role] ?? 3) || collator.compare(a.user, b.user));
  const nodes = members.map((m) => {
    const li = memberNode(m.user);
    const role = typeof m.role === 'string' ? m.role : 'member';
    li.dataset.role = role;
    li.classList.toggle('me', isMe(m.user));
    li.dataset.online = String(online.has(m.user.toLowerCase()));
    li.querySelector('.role').textContent = role;
    const until = mutedUntil(m);
    li.querySelector('.muted-until').textContent = until ? `muted until ${timeFmt.format(until)}` : '';
    const show = (cls, yes) => { li.querySelector(cls).hidden = !yes; };
    show('.dm-btn', !isMe(m.user) && !perm.direct);
    show('.mute-btn', perm.moderate(m) && !until);
    show('.unmute-btn', perm.moderate(m) && !!until);
    show('.remove-btn', perm.moderate(m));
    show('.ban-btn', perm.moderate(m));
    const roleBtn = li.querySelector('.role-btn');
    roleBtn.hidden = !perm.setRole(m);
    const to = role === 'moderator' ? 'member' : 'moderator';
    roleBtn.dataset.to = to;
    roleBtn.textContent = to === 'moderator' ? 'Make moderator' : 'Make member';
    const label = `${roleBtn.textContent}: ${m.user}`; // the visible words first (WCAG 2.5.3)
    roleBtn.setAttribute('aria-label', label);
    roleBtn.title = label;
    const form = li.querySelector('.ban-form');
    if (!perm.moderate(m)) form.hidden = true;
    li.querySelector('.member-actions').hidden = [...li.querySelectorAll('.member-actions > button')].every((b) => b.hidden);
    return li;
  });
  const keep = new Set(members.map((m) => m.user));
  for (const user of [...memberNodes.keys()]) if (!keep.has(user)) memberNodes.delete(user);
  place(ui.memberList, nodes);

  ui.myRole.replaceChildren(...(perm.direct ? bidi`A conversation between you and ${displayName(room)}.`
    : perm.role === 'owner' ? ['You are the owner.']
    : perm.role === 'moderator' ? ['You are a moderator.']
    : perm.role === 'member' ? ['You are a member.']
    : []));
  ui.membersEmpty.hidden = !mine.loaded || members.length > 0;
  ui.membersEmpty.replaceChildren(...(mine.error
    ? [mine.error.status === 404 ? 'Members are not listed here.' : 'Could not load the members.']
    : bidi`No members recorded: anyone may join ${roomLabel(room)}.`));
  ui.inviteForm.hidden = !perm.invite;
  ui.leaveRoomBtn.hidden = !perm.leave;
  ui.deleteRoomBtn.hidden = !perm.remove || !ui.deleteConfirm.hidden;
  if (!perm.remove) ui.deleteConfirm.hidden = true;

  const bans = perm.bans && roster.room === room ? roster.bans.filter((b) => b && typeof b.user === 'string') : [];
  ui.bans.hidden = bans.length === 0;
  ui.banList.replaceChildren(...bans.map((b) => h('li', { 'data-user': b.user },
    h('span', { class: 'member-name' }, b.user),
    b.reason ? h('span', { class: 'ban-why' }, `: ${b.reason}`) : null,
    actionButton('unban-btn', 'Unban', `Unban ${b.user}`))));
}

/** Narrow windows show the members over the messages, on demand; wide ones beside them, always. */
function setMembersOpen(open) {
  if (open) ui.membersPanel.dataset.open = 'true'; else delete ui.membersPanel.dataset.open;
  ui.membersToggle.setAttribute('aria-expanded', String(open));
}

/** An answer of the membership routes in words a person can act on, as nodes (see bidi). */
function refusal(e, user) {
  if (e.status === 403) return bidi`You may not do that in ${roomLabel(current)}.`;
  if (e.status === 404 && user) return bidi`No user “${user}”, or not a member of ${roomLabel(current)}.`;
  if (e.status === 409 && user) return bidi`${user} is banned from ${roomLabel(current)}: lift the ban first.`;
  return [sentence(e.message)];
}

async function memberAction(button, user, run) {
  const room = current;
  ui.membersError.textContent = '';
  button.disabled = true;
  try {
    await run(room);
  } catch (e) {
    if (current === room) ui.membersError.replaceChildren(...refusal(e, user));
  } finally {
    button.disabled = false;
    if (current === room) refreshRosterSoon();
  }
}

const exitingHere = new Set(); // rooms this page is leaving or deleting: their `left` is no news

/** We left a room on the server (or deleted it): the page forgets it without waiting for `left`. */
function gone(room, text, deleted = false) {
  client.drop(room);
  const entry = directory.get(room);
  if (deleted || (entry && entry.kind !== 'public')) directory.delete(room);
  if (joined.includes(room)) forgetRoom(room); else renderRooms();
  notice(text);
  refreshDirectorySoon();
}

/** Opens (or makes) the direct room with `user` and shows it. */
async function startDirect(user) {
  const r = await client.openDirect(user);
  const name = typeof r?.name === 'string' && r.name ? r.name : null;
  if (!name) throw new Error('The server did not say which room.');
  directory.set(name, { ...directory.get(name), ...r, kind: 'direct', with: typeof r.with === 'string' ? r.with : user });
  joinRoom(name);
  refreshDirectorySoon();
}

/** @param parts the alert's sentence, as nodes (see bidi) */
function showAlert(parts) {
  ui.alertText.replaceChildren(...parts);
  ui.alert.hidden = false;
}

function hideAlert() {
  ui.alert.hidden = true;
  ui.alertText.textContent = '';
}

/** Why we are no longer in a room, with who did it when the event that said so arrived first; as nodes (see bidi). */
function takenOutText(label, reason, ev) {
  const by = typeof ev?.by === 'string' && ev.by ? ev.by : null;
  const byWhom = (type) => (ev?.type !== type || !by ? [] : isMe(by) ? [' by you'] : bidi` by ${by}`);
  switch (reason) {
    case 'banned': {
      const why = ev?.type === 'banned' && typeof ev.reason === 'string' && ev.reason ? bidi` Reason: ${sentence(ev.reason)}` : [];
      const until = ev?.type === 'banned' && typeof ev.until === 'string' && !Number.isNaN(Date.parse(ev.until))
        ? [` The ban ends ${dayTimeFmt.format(new Date(ev.until))}.`] : [];
      return [...bidi`You were banned from ${label}`, ...byWhom('banned'), '.', ...why, ...until];
    }
    case 'removed': return [...bidi`You were removed from ${label}`, ...byWhom('member_removed'), '.'];
    case 'room_deleted': return [...bidi`${label} was deleted`, ...byWhom('room_deleted'), '.'];
    case 'left': return bidi`You left ${label} (on another device or tab).`;
    default: return bidi`You are no longer in ${label}.`;
  }
}

// --- presence and typing ----------------------------------------------------------------

function renderPresence() {
  const users = current ? client.members(current).sort(collator.compare) : [];
  ui.presenceList.replaceChildren(...users.map((u) =>
    h('li', { 'data-user': u, class: u === me ? 'me' : null }, h('span', { class: 'dot', 'aria-hidden': 'true' }), u)));
  const online = current ? (client.online(current) ?? users.length) : 0;
  ui.onlineCount.textContent = current ? `${online} online` : '';
  ui.presenceTitle.textContent = current ? `Online — ${online}` : 'Online';
}

/** As nodes (see bidi). */
function typingText(users) {
  if (users.length === 1) return bidi`${users[0]} is typing…`;
  if (users.length === 2) return bidi`${users[0]} and ${users[1]} are typing…`;
  if (users.length === 3) return bidi`${users[0]}, ${users[1]} and ${users[2]} are typing…`;
  return ['Several people are typing…'];
}

function renderTyping() {
  const users = [...(views.get(current)?.typing.keys() ?? [])];
  clearTimeout(typingFadeTimer);
  if (users.length) {
    ui.typing.replaceChildren(...typingText(users));
    ui.typing.dataset.active = 'true';
  } else {
    ui.typing.dataset.active = 'false';
    // Let the fade-out finish before the text goes.
    typingFadeTimer = setTimeout(() => { ui.typing.textContent = ''; }, 350);
  }
}

function stopTyping(v, user) {
  if (!v.typing.has(user)) return;
  clearTimeout(v.typing.get(user));
  v.typing.delete(user);
  if (v.room === current) renderTyping();
}

function updateConn(state, code) {
  ui.conn.dataset.state = state;
  ui.conn.textContent = { connecting: 'Connecting…', reconnecting: 'Reconnecting…', closed: 'Disconnected' }[state] ?? '';
  // Closed by the server with a code after which the client does not reconnect by itself (1002, 1009:
  // PROTOCOL.md 10): a reload starts afresh.
  if (state === 'closed' && (code === 1002 || code === 1009)) ui.conn.textContent = `Disconnected (${code}): reload the page`;
  ui.conn.hidden = state === 'open' || !me;
}

// --- client events ----------------------------------------------------------------------

client.on('state', ({ state, code }) => updateConn(state, code));
client.on('message', onMessage);
client.on('history', onHistory);

client.on('ack', ({ room, clientId, seq, ts, earlier }) => {
  const v = views.get(room);
  const li = v?.local.get(clientId);
  if (!li) return;
  if (earlier) {
    // Stored before this page joined (sent again after a reload): no echo will come, and its
    // place is among the older messages, where history shows it.
    v.local.delete(clientId);
    mutate(v, () => li.remove());
    return;
  }
  setStatus(li, 'sent', seq);
  setTime(li.querySelector('.time'), ts);
});

client.on('sendfailed', ({ room, clientId, code, message }) => {
  const li = views.get(room)?.local.get(clientId);
  if (li) setStatus(li, 'failed', null, message, code);
});

client.on('joined', ({ room, lastSeq, resumed, readSeq, unread, mentions, historyStart }) => {
  const v = views.get(room);
  if (!v) return;
  v.historyStart = historyStart;
  // The server's counts as of lastSeq; the replay and live messages after it are counted here.
  v.counted = [];
  v.countedTo = null;
  if (readSeq !== null) v.readSeq = null; // the stored marker wins, as after a reload
  applyRead(v, { readSeq: readSeq ?? lastSeq, lastSeq, unread, mentions });
  if (room === current) markSeen();
  updateTitle();
  if (!resumed && lastSeq === 0) {
    v.hasMore = false;
    v.marker.textContent = beginning(room);
  }
  renderRooms();
  if (room === current) { renderPresence(); renderRoster(); maybeLoadOlder(); }
  refreshDirectorySoon();
});

// The user's marker moved: this tab's read, or another tab's or device's (PROTOCOL.md, read).
client.on('read', ({ room, ...state }) => {
  const v = views.get(room);
  if (!v || !applyRead(v, state)) return;
  if (room === current) markSeen();
  renderRooms();
  updateTitle();
});

client.on('presence', ({ room, user, status, online, left }) => {
  const entry = directory.get(room);
  if (entry) entry.online = online;
  const v = views.get(room);
  if (v && status === 'offline') stopTyping(v, user);
  if (v && status === 'summary') for (const u of left) stopTyping(v, u);
  if (room === current) { renderPresence(); renderRoster(); }
  renderRooms();
});

client.on('typing', ({ room, user }) => {
  const v = views.get(room);
  if (!v || user === me) return;
  clearTimeout(v.typing.get(user));
  v.typing.set(user, setTimeout(() => stopTyping(v, user), TYPING_TTL_MS));
  if (room === current) renderTyping();
});

client.on('left', ({ room, reason }) => {
  // Only a leave we did not ask for reaches here with the room still listed.
  if (!joined.includes(room)) return;
  const label = roomLabel(room);
  const ev = aboutMe.get(room);
  aboutMe.delete(room);
  forgetRoom(room);
  if (!reason) { notice(bidi`You are no longer in ${label}.`); return; }
  if (exitingHere.has(room) && (reason === 'left' || reason === 'room_deleted')) return; // gone() says it
  // Taken out by someone else (or by us elsewhere): said until dismissed, and never joined again by itself.
  showAlert(takenOutText(label, reason, ev));
  const entry = directory.get(room);
  if (reason === 'room_deleted' || (entry && entry.kind !== 'public')) directory.delete(room);
  renderRooms();
  refreshDirectorySoon();
});

client.on('error', ({ code, message, room, frame }) => {
  if (frame === 'send' || frame === 'typing') return; // shown on the message / not worth a word
  if (frame === 'join' && room && !client.isJoined(room)) {
    ui.roomError.replaceChildren(...bidi`Could not join ${`#${room}`}: `, String(message ?? ''));
    forgetRoom(room);
    return;
  }
  if (frame === 'history' && room) {
    const v = views.get(room);
    if (v) v.marker.textContent = 'Could not load older messages.';
  }
  notice(message || code || 'Something went wrong.');
});

let leavingEverywhere = false; // our own "log out everywhere" closes our socket with 4003 too

client.on('unauthorized', ({ reason } = {}) => {
  if (reason === 'session_revoked' && leavingEverywhere) return; // the button's handler ends the session
  if (reason === 'session_replaced') { endSession('You signed in as someone else in another tab. Please log in again.'); return; }
  if (reason !== 'session_revoked') { endSession('Your session has expired. Please log in again.'); return; }
  // Another tab of this browser that logged out ended the session we share: it said so in storage first.
  if (signedOutInAnotherTab()) { endSession('You signed out in another tab.'); return; }
  endSession('You were signed out: this session was ended elsewhere (log out everywhere, a password change, '
    + 'or the account was disabled). Please log in again.');
});

// --- DOM events -------------------------------------------------------------------------

ui.authForm.addEventListener('submit', (ev) => { ev.preventDefault(); authenticate(false); });
for (const field of [ui.username, ui.password]) field.addEventListener('input', () => field.removeAttribute('aria-invalid'));
ui.registerBtn.addEventListener('click', () => authenticate(true));
// The session is ended on the server as well (best effort: the page forgets it either way), which
// clears the cookie; the other tabs of this browser, whose session it was too, are told first.
ui.logoutBtn.addEventListener('click', () => {
  store.set(SIGNED_OUT_KEY, Date.now());
  client.revoke().catch(() => {});
  endSession();
});
// Everywhere only once the server said so: a failure leaves this tab signed in, and says why.
ui.logoutAllBtn.addEventListener('click', async () => {
  ui.logoutAllBtn.disabled = true;
  leavingEverywhere = true;
  try {
    await client.revoke({ all: true });
    store.set(SIGNED_OUT_KEY, Date.now());
    endSession();
    ui.authError.textContent = 'You logged out on every device.';
  } catch (e) {
    notice(`Could not log out everywhere: ${e.message}`);
  } finally {
    leavingEverywhere = false;
    ui.logoutAllBtn.disabled = false;
  }
});

ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ui.roomInput.value.trim();
  if (!name || !client.isValidRoomName(name)) {
    ui.roomError.textContent = name ? roomRule() : 'Enter a room name.';
    ui.roomInput.setAttribute('aria-invalid', 'true');
    return;
  }
  ui.roomError.textContent = '';
  ui.roomInput.removeAttribute('aria-invalid');
  ui.roomInput.value = '';
  joinRoom(name);
});
ui.roomInput.addEventListener('input', () => {
  ui.roomError.textContent = '';
  ui.roomInput.removeAttribute('aria-invalid');
});

ui.roomList.addEventListener('click', (ev) => {
  const li = ev.target.closest('li[data-room]');
  if (!li) return;
  if (ev.target.closest('.leave-btn')) leaveRoom(li.dataset.room);
  else if (ev.target.closest('.room-btn')) joinRoom(li.dataset.room);
});

ui.alertClose.addEventListener('click', hideAlert);

ui.newRoomForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = ui.newRoomName.value.trim();
  const visibility = ui.newRoomForm.querySelector('input[name=visibility]:checked')?.value ?? 'public';
  const topic = ui.newRoomTopic.value.trim();
  ui.newRoomError.textContent = '';
  ui.newRoomName.removeAttribute('aria-invalid');
  if (!name || !client.isValidRoomName(name)) {
    ui.newRoomError.textContent = name ? roomRule() : 'Enter a room name.';
    ui.newRoomName.setAttribute('aria-invalid', 'true');
    ui.newRoomName.focus();
    return;
  }
  ui.newRoomBtn.disabled = true;
  try {
    const r = await client.createRoom({ name, visibility, topic });
    const made = typeof r?.name === 'string' && r.name ? r.name : name;
    directory.set(made, { name: made, kind: visibility, topic: topic || null, role: 'owner', members: 1, online: 0, ...r });
    ui.newRoomForm.reset();
    ui.newRoom.open = false;
    joinRoom(made);
    refreshDirectorySoon();
  } catch (e) {
    if (e.status === 409) {
      ui.newRoomError.replaceChildren(...bidi`The name “${name}” is taken. Pick another one.`);
      ui.newRoomName.setAttribute('aria-invalid', 'true');
    } else if (e.status === 403) {
      ui.newRoomError.textContent = 'Only administrators may make rooms on this server. You can still join public ones.';
    } else {
      ui.newRoomError.textContent = sentence(e.message);
    }
  } finally {
    ui.newRoomBtn.disabled = false;
  }
});
ui.newRoomName.addEventListener('input', () => { ui.newRoomError.textContent = ''; ui.newRoomName.removeAttribute('aria-invalid'); });

ui.dmForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const user = ui.dmInput.value.trim();
  ui.dmError.textContent = '';
  ui.dmInput.removeAttribute('aria-invalid');
  if (!user) { ui.dmError.textContent = 'Enter a username.'; return; }
  if (isMe(user)) { ui.dmError.textContent = 'That is you: pick someone else.'; return; }
  ui.dmBtn.disabled = true;
  try {
    await startDirect(user);
    ui.dmInput.value = '';
  } catch (e) {
    ui.dmError.replaceChildren(...(e.status === 404 ? bidi`No such user: ${user}.` : [sentence(e.message)]));
    ui.dmInput.setAttribute('aria-invalid', 'true');
  } finally {
    ui.dmBtn.disabled = false;
  }
});
ui.dmInput.addEventListener('input', () => { ui.dmError.textContent = ''; ui.dmInput.removeAttribute('aria-invalid'); });

ui.inviteForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const user = ui.inviteInput.value.trim();
  if (!user || !current) return;
  if (roster.members.some((m) => sameUser(m.user, user))) {
    ui.membersError.replaceChildren(...bidi`${user} is already a member of ${roomLabel(current)}.`);
    return;
  }
  // `{}` adds a member (PROTOCOL.md 3.3) and, unlike a role, changes nothing of someone already in.
  memberAction(ui.inviteBtn, user, async (room) => {
    await client.setMember(room, user, {});
    ui.inviteInput.value = '';
  });
});

ui.memberList.addEventListener('click', (ev) => {
  const li = ev.target.closest('li[data-user]');
  const button = ev.target.closest('button');
  if (!li || !button) return;
  const user = li.dataset.user;
  const form = li.querySelector('.ban-form');
  if (button.classList.contains('dm-btn')) {
    memberAction(button, user, () => startDirect(user));
  } else if (button.classList.contains('mute-btn')) {
    memberAction(button, user, (room) => client.setMember(room, user, { mutedUntil: new Date(Date.now() + MUTE_FOR_MS).toISOString() }));
  } else if (button.classList.contains('unmute-btn')) {
    memberAction(button, user, (room) => client.setMember(room, user, { mutedUntil: null }));
  } else if (button.classList.contains('role-btn')) {
    memberAction(button, user, (room) => client.setMember(room, user, { role: button.dataset.to }));
  } else if (button.classList.contains('remove-btn')) {
    memberAction(button, user, (room) => client.removeMember(room, user));
  } else if (button.classList.contains('ban-btn')) {
    form.hidden = false;
    form.querySelector('.ban-reason').focus();
  } else if (button.classList.contains('ban-cancel')) {
    form.hidden = true;
    form.querySelector('.ban-reason').value = '';
    li.querySelector('.ban-btn').focus();
  }
});
ui.memberList.addEventListener('submit', (ev) => {
  const form = ev.target.closest('.ban-form');
  if (!form) return;
  ev.preventDefault();
  const user = form.closest('li[data-user]').dataset.user;
  const reason = form.querySelector('.ban-reason').value.trim();
  memberAction(form.querySelector('.ban-confirm'), user, async (room) => {
    await client.ban(room, user, { reason });
    form.hidden = true;
    form.querySelector('.ban-reason').value = '';
  });
});

ui.banList.addEventListener('click', (ev) => {
  const button = ev.target.closest('.unban-btn');
  const user = button?.closest('li[data-user]')?.dataset.user;
  if (user) memberAction(button, user, (room) => client.unban(room, user));
});

ui.leaveRoomBtn.addEventListener('click', () => {
  const label = roomLabel(current);
  memberAction(ui.leaveRoomBtn, null, async (room) => {
    exitingHere.add(room);
    try {
      await client.removeMember(room, me);
      gone(room, `You left ${label}.`);
    } finally {
      exitingHere.delete(room);
    }
  });
});

ui.deleteRoomBtn.addEventListener('click', () => {
  ui.deleteQuestion.replaceChildren(...bidi`Delete ${roomLabel(current)} and its whole history, for everyone?`);
  ui.deleteConfirm.hidden = false;
  ui.deleteRoomBtn.hidden = true;
  ui.deleteNo.focus();
});
ui.deleteNo.addEventListener('click', () => {
  ui.deleteConfirm.hidden = true;
  ui.deleteRoomBtn.hidden = false;
  ui.deleteRoomBtn.focus();
});
ui.deleteYes.addEventListener('click', () => {
  const label = roomLabel(current);
  memberAction(ui.deleteYes, null, async (room) => {
    exitingHere.add(room);
    try {
      await client.deleteRoom(room);
      ui.deleteConfirm.hidden = true;
      gone(room, `You deleted ${label}.`, true);
    } finally {
      exitingHere.delete(room);
    }
  });
});

ui.membersToggle.addEventListener('click', () => {
  const open = ui.membersPanel.dataset.open !== 'true';
  setMembersOpen(open);
  if (open) { loadRoster(); ui.membersClose.focus(); }
});
ui.membersClose.addEventListener('click', () => { setMembersOpen(false); ui.membersToggle.focus(); });
ui.roomsToggle.addEventListener('click', () => {
  ui.chatView.dataset.pane = 'rooms';
  revealCurrentRoom();
  (ui.roomList.querySelector('li[data-current] .room-btn') ?? ui.dmList.querySelector('li[data-current] .room-btn') ?? ui.roomInput).focus();
});
ui.dmList.addEventListener('click', (ev) => {
  const li = ev.target.closest('li[data-room]');
  if (!li) return;
  if (ev.target.closest('.leave-btn')) leaveRoom(li.dataset.room);
  else if (ev.target.closest('.room-btn')) joinRoom(li.dataset.room);
});

// Rooms someone added us to, direct messages someone started: the list is read again when the page is looked at.
document.addEventListener('visibilitychange', () => { if (!document.hidden && me) { refreshDirectory(); markSeen(); } });

ui.messages.addEventListener('scroll', () => {
  if (isAtBottom()) { ui.jumpBtn.hidden = true; markSeen(); }
  maybeLoadOlder();
}, { passive: true });

ui.messages.addEventListener('click', (ev) => {
  const li = ev.target.closest('.message');
  if (!li) return;
  if (ev.target.closest('.retry-btn')) {
    if (client.retry(li.dataset.clientId)) setStatus(li, 'sending');
  } else if (ev.target.closest('.discard-btn')) {
    client.discard(li.dataset.clientId);
    views.get(current)?.local.delete(li.dataset.clientId);
    li.remove();
  } else if (li.dataset.seq && ev.target.closest('button')) {
    onMessageAction(li, ev.target);
  }
});

ui.jumpBtn.addEventListener('click', scrollToBottom);

// --- "@" completion: the names of the room's members and of who is online in it --------------

const MENTION_PREFIX_RE = /(?:^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]{0,64})$/;
const MAX_SUGGESTIONS = 8;
let suggesting = null; // {start, options: [names], active} while the list is shown

/** The "@prefix" being typed just before the caret, or null. */
function mentionPrefix() {
  const box = ui.composer;
  if (box.selectionStart !== box.selectionEnd) return null;
  const before = box.value.slice(0, box.selectionStart);
  const m = MENTION_PREFIX_RE.exec(before);
  return m ? { start: before.length - m[1].length - 1, prefix: m[1] } : null;
}

function suggestMentions() {
  const at = current ? mentionPrefix() : null;
  if (!at) { closeSuggestions(); return; }
  const known = new Map();
  if (roster.room === current) for (const m of roster.members) known.set(m.user.toLowerCase(), m.user);
  for (const u of client.members(current)) if (!known.has(u.toLowerCase())) known.set(u.toLowerCase(), u);
  const p = at.prefix.toLowerCase();
  const options = [...known.values()].filter((u) => !isMe(u) && u.toLowerCase().startsWith(p))
    .sort(collator.compare).slice(0, MAX_SUGGESTIONS);
  if (!options.length) { closeSuggestions(); return; }
  suggesting = { start: at.start, options, active: 0 };
  renderSuggestions();
}

function renderSuggestions() {
  ui.mentionList.replaceChildren(...suggesting.options.map((u, i) => h('li', {
    id: `mention-opt-${i}`, role: 'option', 'data-user': u, class: i === suggesting.active ? 'active' : null,
    'aria-selected': String(i === suggesting.active),
  }, `@${u}`)));
  ui.mentionList.hidden = false;
  // No aria-expanded: a textarea is a textbox, which does not take it (axe: aria-allowed-attr); the
  // list it controls and its active option say that suggestions are open.
  ui.composer.setAttribute('aria-activedescendant', `mention-opt-${suggesting.active}`);
}

function closeSuggestions() {
  suggesting = null;
  ui.mentionList.hidden = true;
  ui.mentionList.replaceChildren();
  ui.composer.removeAttribute('aria-activedescendant');
}

/** Puts "@name " in place of the "@prefix" being typed. */
function takeSuggestion(name) {
  const box = ui.composer;
  const end = box.selectionStart;
  const text = `@${name} `;
  box.value = box.value.slice(0, suggesting.start) + text + box.value.slice(end);
  const caret = suggesting.start + text.length;
  box.setSelectionRange(caret, caret);
  closeSuggestions();
  autosize();
}

// Before the composer's own keys: while names are offered, Enter and Tab take one instead of sending.
ui.composer.addEventListener('keydown', (ev) => {
  if (!suggesting || ev.isComposing) return;
  const n = suggesting.options.length;
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    suggesting.active = (suggesting.active + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
    renderSuggestions();
  } else if (ev.key === 'Enter' || ev.key === 'Tab') {
    takeSuggestion(suggesting.options[suggesting.active]);
  } else if (ev.key === 'Escape') {
    closeSuggestions();
  } else {
    return;
  }
  ev.preventDefault();
  ev.stopImmediatePropagation();
});
// mousedown, not click: the box keeps the focus (and a phone its keyboard).
ui.mentionList.addEventListener('mousedown', (ev) => {
  const li = ev.target.closest('li[data-user]');
  if (!li || !suggesting) return;
  ev.preventDefault();
  takeSuggestion(li.dataset.user);
});
ui.composer.addEventListener('blur', closeSuggestions);

ui.composer.addEventListener('keydown', (ev) => {
  // isComposing / 229: Enter that confirms an IME composition must not send.
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    sendCurrent();
  } else if (ev.key === 'ArrowUp' && !ui.composer.value && !composing && !ev.isComposing) {
    if (editLast()) ev.preventDefault();
  } else if (ev.key === 'Escape' && composing) {
    ev.preventDefault();
    setComposing(null);
  }
});
ui.composeModeCancel.addEventListener('click', () => { setComposing(null); ui.composer.focus(); });
ui.composer.addEventListener('input', () => {
  autosize();
  suggestMentions();
  if (current && ui.composer.value.trim()) client.typing(current);
});
ui.composerForm.addEventListener('submit', (ev) => { ev.preventDefault(); sendCurrent(); });
// A press on Send must not take the focus from the box: on phones that would drop the keyboard.
ui.sendBtn.addEventListener('mousedown', (ev) => ev.preventDefault());

// Signing out in one tab signs out the others: they share the session (the cookie).
window.addEventListener('storage', (ev) => {
  if (ev.key === SIGNED_OUT_KEY && ev.newValue !== null && me) endSession('You signed out in another tab.');
});

// --- start --------------------------------------------------------------------------------

// The server's limits first (bounded by a timeout: its defaults stand in), so that stored rooms and
// typed names are checked against its rules, not a copy of the defaults.
await client.loadLimits();
store.del(LEGACY_SESSION_KEY); // a token an older version kept in script-readable storage
await resumeSession();

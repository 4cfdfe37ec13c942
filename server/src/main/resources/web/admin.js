/*
 * The admin page of the web client (docs/WEB_CLIENT.md, "The admin page"), for the server's
 * administrators (CHAT_ADMINS): the nodes and their health, every room with its size and traffic,
 * every account (disable, enable, revoke its sessions), bots and their API keys, and webhooks with
 * their failures, over the /api/admin routes (PROTOCOL.md 3.8 and 3.9). The "Admin" button shows
 * only after GET /api/admin/nodes answered 200: for anyone else the server says 403 and the page
 * shows nothing of it (the server refuses every /api/admin route anyway).
 *
 * Stable hooks for browser tests (keep in sync with index.html):
 *   #admin-btn                 "Admin" in the header (admins only); aria-expanded while the page is open
 *   #admin-view                the page (#chat-view is hidden meanwhile); #admin-close "Back to chat",
 *                              #admin-refresh "Refresh", #admin-error (role=alert)
 *   #admin-nodes > li[data-node][data-status=UP|DOWN]   .node-id, .node-self ("this node"), .node-checks, .node-connections
 *   #admin-rooms tbody > tr[data-room]   td.kind, td.members, td.online-now, td.last-seq, td.last-activity
 *   #admin-users-form, #admin-user-prefix   search by the start of a name
 *   #admin-users tbody > tr[data-user][data-disabled=true|false]   td.kind (bot, admin), td.state
 *                              ("Active" / "Disabled"), .disable-btn / .enable-btn, .revoke-btn "Revoke sessions";
 *                              buttons named "<Action>: <user>" for assistive tech
 *   #admin-bot-form: #admin-bot-name, #admin-bot-rooms, input[name=bot-action], #admin-bot-create; #admin-bot-error
 *   #admin-new-key (role=alert)  a new key, shown once: #admin-new-key-value, #admin-new-key-done
 *   #admin-bots > li[data-bot]  .keys-btn "Keys", .add-key-btn "New key"; .bot-keys > li[data-key]
 *                              (.key-prefix, .key-scope, .rotate-btn "Rotate", .revoke-key-btn "Revoke")
 *   #admin-webhooks tbody > tr[data-webhook][data-status=active|failing|disabled]   td.state, td.failures, td.last-error
 *   #admin-webhooks-failing    only failing and disabled webhooks
 *   #admin-rooms-more, #admin-users-more, #admin-webhooks-more   the next page, when there is one
 */

const $ = (id) => document.getElementById(id);
const seg = encodeURIComponent;
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso) => (iso ? dateFmt.format(new Date(iso)) : '—');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const td = (cls, ...children) => el('td', { class: cls }, ...children);
const button = (cls, text, label, kind = 'secondary') => el('button', { type: 'button', class: `${kind} small ${cls}`, 'aria-label': label }, text);

export class AdminPage {
  /**
   * @param request (method, path, body) => Promise of the answer's JSON; rejects with {status, code, message}
   * @param onShow  (open) => void: the caller hides or shows the chat
   */
  constructor({ request, onShow }) {
    this.request = request;
    this.onShow = onShow;
    this.me = null;
    this.cursors = { rooms: null, users: null, webhooks: null };
    this.ui = {
      btn: $('admin-btn'), view: $('admin-view'), close: $('admin-close'), refresh: $('admin-refresh'), error: $('admin-error'),
      status: $('admin-status'), nodes: $('admin-nodes'), rooms: $('admin-rooms').tBodies[0], roomsMore: $('admin-rooms-more'),
      usersForm: $('admin-users-form'), prefix: $('admin-user-prefix'), users: $('admin-users').tBodies[0], usersMore: $('admin-users-more'),
      botForm: $('admin-bot-form'), botName: $('admin-bot-name'), botRooms: $('admin-bot-rooms'), botError: $('admin-bot-error'),
      newKey: $('admin-new-key'), newKeyText: $('admin-new-key-text'), newKeyValue: $('admin-new-key-value'), newKeyDone: $('admin-new-key-done'),
      bots: $('admin-bots'), botsEmpty: $('admin-bots-empty'),
      webhooks: $('admin-webhooks').tBodies[0], webhooksMore: $('admin-webhooks-more'), failing: $('admin-webhooks-failing'),
    };
    const u = this.ui;
    u.btn.addEventListener('click', () => (u.view.hidden ? this.open() : this.close()));
    u.close.addEventListener('click', () => this.close());
    u.refresh.addEventListener('click', () => this.loadAll());
    u.roomsMore.addEventListener('click', () => this.loadRooms(true));
    u.usersMore.addEventListener('click', () => this.loadUsers(true));
    u.webhooksMore.addEventListener('click', () => this.loadWebhooks(true));
    u.failing.addEventListener('change', () => this.loadWebhooks());
    u.usersForm.addEventListener('submit', (e) => { e.preventDefault(); this.loadUsers(); });
    u.botForm.addEventListener('submit', (e) => { e.preventDefault(); this.createBot(); });
    u.newKeyDone.addEventListener('click', () => this.hideKey());
    u.view.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !e.defaultPrevented) this.close(); });
  }

  /** After sign-in: shows the "Admin" button if the server takes this user as an administrator. */
  async probe(me) {
    this.me = me;
    try {
      await this.request('GET', '/api/admin/nodes');
      if (this.me === me) this.ui.btn.hidden = false;
    } catch {
      this.ui.btn.hidden = true; // 403 for everyone else; a network error: no button until the next sign-in
    }
  }

  /** At sign-out: nothing of the page stays. */
  reset() {
    this.me = null;
    this.close(false);
    this.ui.btn.hidden = true;
    for (const body of [this.ui.nodes, this.ui.rooms, this.ui.users, this.ui.bots, this.ui.webhooks]) body.replaceChildren();
    this.hideKey();
    this.ui.error.textContent = '';
    this.ui.botError.textContent = '';
  }

  open() {
    this.ui.view.hidden = false;
    this.ui.btn.setAttribute('aria-expanded', 'true');
    this.onShow(true);
    this.ui.view.querySelector('h1').setAttribute('tabindex', '-1');
    this.ui.view.querySelector('h1').focus();
    this.loadAll();
  }

  close(focus = true) {
    if (this.ui.view.hidden) return;
    this.ui.view.hidden = true;
    this.ui.btn.setAttribute('aria-expanded', 'false');
    this.onShow(false);
    if (focus) this.ui.btn.focus();
  }

  async loadAll() {
    this.ui.error.textContent = '';
    await Promise.all([this.loadNodes(), this.loadRooms(), this.loadUsers(), this.loadBots(), this.loadWebhooks()]);
    this.ui.status.textContent = `Updated at ${new Date().toLocaleTimeString()}`;
  }

  failed(e) {
    this.ui.error.textContent = e?.message ?? String(e);
  }

  // --- nodes ---

  async loadNodes() {
    try {
      const { nodes } = await this.request('GET', '/api/admin/nodes');
      this.ui.nodes.replaceChildren(...nodes.map((n) => {
        const checks = Object.entries(n.checks ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
        return el('li', { class: 'admin-node', 'data-node': n.id, 'data-status': n.status },
          el('strong', { class: 'node-id' }, n.id), n.self ? el('span', { class: 'node-self' }, ' (this node)') : null,
          el('span', { class: `node-status status-${n.status.toLowerCase()}` }, n.draining ? 'draining' : (n.status === 'UP' ? 'ready' : 'not ready')),
          el('span', { class: 'node-checks' }, checks),
          el('span', { class: 'node-connections' }, `${n.connections} connection${n.connections === 1 ? '' : 's'}`),
          el('span', { class: 'node-started' }, `up since ${when(n.startedAt)}`));
      }));
    } catch (e) { this.failed(e); }
  }

  // --- rooms ---

  async loadRooms(more = false) {
    const q = more && this.cursors.rooms ? `?cursor=${seg(this.cursors.rooms)}` : '';
    try {
      const { rooms, next } = await this.request('GET', `/api/admin/rooms${q}`);
      const rows = rooms.map((r) => el('tr', { 'data-room': r.name },
        el('th', { scope: 'row' }, el('bdi', {}, r.name)), td('kind', r.kind), td('members', String(r.members)),
        td('online-now', String(r.online)), td('last-seq', String(r.lastSeq)),
        td('last-activity', r.lastActivityAt ? el('time', { datetime: r.lastActivityAt }, when(r.lastActivityAt)) : '—')));
      if (more) this.ui.rooms.append(...rows); else this.ui.rooms.replaceChildren(...rows);
      this.cursors.rooms = next;
      this.ui.roomsMore.hidden = !next;
    } catch (e) { this.failed(e); }
  }

  // --- users ---

  async loadUsers(more = false) {
    const params = new URLSearchParams();
    const prefix = this.ui.prefix.value.trim();
    if (prefix) params.set('prefix', prefix);
    if (more && this.cursors.users) params.set('cursor', this.cursors.users);
    const q = params.toString();
    try {
      const { users, next } = await this.request('GET', `/api/admin/users${q ? `?${q}` : ''}`);
      const rows = users.map((u) => this.userRow(u));
      if (more) this.ui.users.append(...rows); else this.ui.users.replaceChildren(...rows);
      this.cursors.users = next;
      this.ui.usersMore.hidden = !next;
    } catch (e) { this.failed(e); }
  }

  userRow(u) {
    const kinds = [u.bot ? 'bot' : null, u.admin ? 'admin' : null, u.external ? 'external' : null].filter(Boolean);
    const self = typeof this.me === 'string' && this.me.toLowerCase() === u.username.toLowerCase();
    const actions = td('actions');
    if (u.disabled) {
      actions.append(button('enable-btn', 'Enable', `Enable: ${u.username}`));
    } else if (!u.admin && !self) {
      actions.append(button('disable-btn', 'Disable', `Disable: ${u.username}`, 'danger'));
    }
    if (!u.bot && !u.disabled) actions.append(button('revoke-btn', 'Revoke sessions', `Revoke sessions: ${u.username}`));
    const row = el('tr', { 'data-user': u.username, 'data-disabled': String(u.disabled) },
      el('th', { scope: 'row' }, el('bdi', {}, u.username)), td('kind', kinds.join(', ') || 'person'),
      td('created', el('time', { datetime: u.createdAt }, when(u.createdAt))), td('state', u.disabled ? 'Disabled' : 'Active'), actions);
    actions.addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      const user = seg(u.username);
      if (b.classList.contains('disable-btn')) this.userAction(b, u, () => this.request('PUT', `/api/admin/users/${user}/disabled`), `${u.username} is disabled; their sessions are ended.`);
      else if (b.classList.contains('enable-btn')) this.userAction(b, u, () => this.request('DELETE', `/api/admin/users/${user}/disabled`), `${u.username} is enabled again.`);
      else if (b.classList.contains('revoke-btn')) this.userAction(b, u, () => this.request('POST', `/api/admin/users/${user}/sessions/revoke`), `Every session of ${u.username} is ended.`, false);
    });
    return row;
  }

  async userAction(b, u, run, done, reload = true) {
    b.disabled = true;
    this.ui.error.textContent = '';
    try {
      await run();
      this.ui.status.textContent = done;
      if (reload) {
        const { users } = await this.request('GET', `/api/admin/users?prefix=${seg(u.username)}&limit=5`);
        const fresh = users.find((x) => x.username === u.username);
        const old = b.closest('tr');
        if (fresh && old?.isConnected) {
          const row = this.userRow(fresh);
          old.replaceWith(row);
          row.querySelector('button')?.focus();
        }
      }
    } catch (e) {
      this.failed(e);
    } finally {
      b.disabled = false;
    }
  }

  // --- bots and keys ---

  async loadBots() {
    try {
      const { bots } = await this.request('GET', '/api/admin/bots');
      this.ui.bots.replaceChildren(...bots.map((b) => this.botItem(b)));
      this.ui.botsEmpty.hidden = bots.length > 0;
    } catch (e) { this.failed(e); }
  }

  botItem(b) {
    const keys = el('ul', { class: 'bot-keys', 'aria-label': `Keys of ${b.name}` });
    const li = el('li', { class: 'admin-bot', 'data-bot': b.name },
      el('div', { class: 'bot-head' }, el('strong', { class: 'bot-name' }, el('bdi', {}, b.name)),
        b.disabled ? el('span', { class: 'bot-disabled' }, 'disabled') : null,
        el('span', { class: 'bot-created' }, `made ${when(b.createdAt)}`),
        button('keys-btn', 'Keys', `Keys: ${b.name}`), button('add-key-btn', 'New key', `New key: ${b.name}`)),
      keys);
    li.addEventListener('click', (e) => {
      const t = e.target.closest('button');
      if (!t) return;
      if (t.classList.contains('keys-btn')) this.loadKeys(b.name, keys);
      else if (t.classList.contains('add-key-btn')) this.keyAction(t, b.name, keys, () => this.request('POST', `/api/admin/bots/${seg(b.name)}/keys`));
      else if (t.classList.contains('rotate-btn')) {
        this.keyAction(t, b.name, keys, () => this.request('POST', `/api/admin/bots/${seg(b.name)}/keys/${seg(t.dataset.key)}/rotate`));
      } else if (t.classList.contains('revoke-key-btn')) {
        this.keyAction(t, b.name, keys, () => this.request('DELETE', `/api/admin/bots/${seg(b.name)}/keys/${seg(t.dataset.key)}`));
      }
    });
    return li;
  }

  async loadKeys(bot, list) {
    try {
      const { keys } = await this.request('GET', `/api/admin/bots/${seg(bot)}/keys`);
      if (!keys.length) {
        list.replaceChildren(el('li', { class: 'empty-hint' }, 'No working key.'));
        return;
      }
      list.replaceChildren(...keys.map((k) => {
        const rooms = k.rooms === '*' ? 'every room' : k.rooms.join(', ');
        const rotate = button('rotate-btn', 'Rotate', `Rotate key ${k.prefix}… of ${bot}`);
        const revoke = button('revoke-key-btn', 'Revoke', `Revoke key ${k.prefix}… of ${bot}`, 'danger');
        rotate.dataset.key = k.id;
        revoke.dataset.key = k.id;
        return el('li', { class: 'bot-key', 'data-key': k.id },
          el('code', { class: 'key-prefix' }, `${k.prefix}…`),
          el('span', { class: 'key-scope' }, `${k.actions.join(', ')} in ${rooms}`),
          el('span', { class: 'key-used' }, k.lastUsedAt ? `used ${when(k.lastUsedAt)}` : 'never used'),
          rotate, revoke);
      }));
    } catch (e) { this.failed(e); }
  }

  /** Runs a key change; a new key (added or rotated) is shown once; the list is read again. */
  async keyAction(b, bot, list, run) {
    b.disabled = true;
    this.ui.error.textContent = '';
    try {
      const answer = await run();
      if (answer?.key) this.showKey(bot, answer.key);
      await this.loadKeys(bot, list);
    } catch (e) {
      this.failed(e);
    } finally {
      b.disabled = false;
    }
  }

  async createBot() {
    const u = this.ui;
    const name = u.botName.value.trim();
    u.botError.textContent = '';
    if (!name) {
      u.botError.textContent = 'Give the bot a name.';
      u.botName.setAttribute('aria-invalid', 'true');
      u.botName.focus();
      return;
    }
    u.botName.removeAttribute('aria-invalid');
    const rooms = u.botRooms.value.split(',').map((r) => r.trim()).filter(Boolean);
    const actions = [...u.botForm.querySelectorAll('input[name=bot-action]:checked')].map((c) => c.value);
    const body = { name, actions };
    if (rooms.length) body.rooms = rooms;
    $('admin-bot-create').disabled = true;
    try {
      const made = await this.request('POST', '/api/admin/bots', body);
      this.showKey(made.bot.name, made.key.key);
      u.botName.value = '';
      u.botRooms.value = '';
      await this.loadBots();
      this.loadUsers();
    } catch (e) {
      u.botError.textContent = e?.message ?? String(e);
    } finally {
      $('admin-bot-create').disabled = false;
    }
  }

  showKey(bot, key) {
    this.ui.newKeyText.textContent = `The API key of ${bot}. Copy it now: it is shown this once, and only its first characters are kept.`;
    this.ui.newKeyValue.textContent = key;
    this.ui.newKey.hidden = false;
    this.ui.newKeyDone.focus();
  }

  hideKey() {
    this.ui.newKeyValue.textContent = '';
    this.ui.newKeyText.textContent = '';
    this.ui.newKey.hidden = true;
  }

  // --- webhooks ---

  async loadWebhooks(more = false) {
    const params = new URLSearchParams();
    if (this.ui.failing.checked) params.set('status', 'failing');
    if (more && this.cursors.webhooks) params.set('cursor', this.cursors.webhooks);
    const q = params.toString();
    try {
      const { webhooks, next } = await this.request('GET', `/api/admin/webhooks${q ? `?${q}` : ''}`);
      const rows = webhooks.map((w) => el('tr', { 'data-webhook': w.id, 'data-status': w.status },
        el('th', { scope: 'row' }, el('bdi', {}, w.room)), td('url', el('bdi', {}, w.url)), td('state', w.status),
        td('failures', String(w.failures)), td('last-error', w.lastError ?? '—'),
        td('last-attempt', when(w.lastAttemptAt)), td('next-attempt', when(w.nextAttemptAt))));
      if (more) this.ui.webhooks.append(...rows); else this.ui.webhooks.replaceChildren(...rows);
      this.cursors.webhooks = next;
      this.ui.webhooksMore.hidden = !next;
    } catch (e) { this.failed(e); }
  }
}

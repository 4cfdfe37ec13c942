// What the tests share: the server under test, fresh users, waiting for an event, and a TCP
// forwarder that can drop every connection through it (a network failure as the client sees it).
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { ChatClient } from '../chat-client.js';

/** The running Parley server the tests talk to: JsClientIT sets PARLEY_URL to the jar it started. */
export function serverUrl() {
  const url = process.env.PARLEY_URL;
  if (!url) {
    throw new Error('PARLEY_URL is not set: start a server (./parley serve) and run PARLEY_URL=http://localhost:8080 npm test, '
      + 'or run the whole thing from the root: ./mvnw verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=JsClientIT');
  }
  return url.replace(/\/+$/, '');
}

/** A name nobody has taken, for a user or a room (3 to 32 characters of [a-z0-9_-]). */
export function fresh(prefix) {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

const clients = new Set();

/** A client (Node has no WebSocket of its own before 22: the `ws` package's), for `baseUrl`; closed by closeAll(). */
export function newClient(baseUrl = serverUrl(), options = {}) {
  const client = new ChatClient(baseUrl, { WebSocket, ...options });
  clients.add(client);
  return client;
}

/** A new account, signed in on a new client. */
export async function signedUp(prefix, baseUrl = serverUrl()) {
  const client = newClient(baseUrl);
  await client.register(fresh(prefix), 'correct horse battery');
  return client;
}

/** Closes every client made here, so that no socket or timer keeps the test process alive. */
export function closeAll() {
  for (const c of clients) c.logout();
  clients.clear();
}

/**
 * The next `type` event of `client` whose detail `accept`s, within `ms`; rejects with what it waited for.
 * Subscribe before doing what causes the event.
 */
export function next(client, type, accept = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no '${type}' event within ${ms} ms`)); }, ms);
    const off = client.on(type, (detail) => {
      if (!accept(detail)) return;
      clearTimeout(timer);
      off();
      resolve(detail);
    });
  });
}

/** Every `type` event of `client` from now on, in an array. */
export function record(client, type) {
  const seen = [];
  client.on(type, (detail) => seen.push(detail));
  return seen;
}

/** Resolves once `condition()` holds, checking every 20 ms; rejects after `ms` with `what`. */
export async function until(what, condition, ms = 10_000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A TCP forwarder on a free loopback port to the server's: cut() drops every connection through it
 * at once (the client sees its WebSocket close with 1006, as on a network failure) and refuses new
 * ones until restore().
 */
export async function tcpProxy(targetUrl = serverUrl()) {
  const target = new URL(targetUrl);
  const open = new Set();
  let cut = false;
  const server = net.createServer((downstream) => {
    if (cut) { downstream.destroy(); return; }
    const upstream = net.connect(Number(target.port || 80), target.hostname);
    const pair = [downstream, upstream];
    for (const s of pair) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => { for (const t of pair) { t.destroy(); open.delete(t); } });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() { cut = false; },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

// ChatClient against a real Parley server (PARLEY_URL; JsClientIT starts the built jar for it), in
// Node with the `ws` package: what a program using the package sees.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { closeAll, fresh, newClient, next, record, serverUrl, signedUp, tcpProxy, until } from './helpers.mjs';

const PASSWORD = 'correct horse battery';

after(closeAll);

/** Connects each client and joins `room` with it, one after the other (the first makes the room). */
async function joinAll(room, ...clients) {
  for (const c of clients) {
    const joined = next(c, 'joined', (d) => d.room === room);
    if (c.state === 'closed') c.connect();
    c.join(room);
    await joined;
  }
}

/** The stored messages of `room` a client was handed (not pending copies, not room events), in the order handed out. */
function delivered(seen, room) {
  return seen.filter((d) => d.room === room && !d.pending && !d.message.event).map((d) => d.message);
}

/** Sends and resolves to the ack. */
async function sendAcked(client, room, text) {
  const acked = next(client, 'ack', (d) => d.room === room && d.clientId === clientId);
  const clientId = client.send(room, text);
  return acked;
}

// Side by side: each test has users and rooms of its own.
describe('ChatClient against a real server', { concurrency: true }, () => {
  test('the server serves this package\'s chat-client.js to browsers, byte for byte', { timeout: 60_000 }, async () => {
    const res = await fetch(`${serverUrl()}/chat-client.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.equal(await res.text(), await readFile(new URL('../chat-client.js', import.meta.url), 'utf8'));
  });

  test('connect, join, send: a pending copy, the ack, the echo, and the other member gets it once', { timeout: 60_000 }, async () => {
    const alice = await signedUp('alice');
    const bob = await signedUp('bob');
    const room = fresh('js');
    await joinAll(room, alice, bob);
    const aliceSeen = record(alice, 'message');
    const bobSeen = record(bob, 'message');

    const ack = await sendAcked(alice, room, 'hello bob');
    assert.ok(Number.isInteger(ack.seq) && ack.seq >= 1, `seq ${ack.seq}`);
    assert.equal(ack.earlier, false);
    await until('bob to get the message', () => delivered(bobSeen, room).length === 1);

    const [pending] = aliceSeen.filter((d) => d.pending);
    assert.equal(pending.message.text, 'hello bob');
    assert.equal(pending.message.clientId, ack.clientId);
    assert.equal(pending.message.seq, null);
    await until('alice to get her echo', () => delivered(aliceSeen, room).length === 1);
    const echo = aliceSeen.find((d) => !d.pending);
    assert.equal(echo.local, true);
    assert.equal(echo.message.seq, ack.seq);

    const got = delivered(bobSeen, room)[0];
    assert.deepEqual([got.seq, got.from, got.text, got.clientId], [ack.seq, alice.username, 'hello bob', ack.clientId]);
    assert.equal(bobSeen.find((d) => !d.pending).local, false);
    assert.equal(bob.lastSeq(room), ack.seq);

    const page = await bob.history(room, { after: 0 });
    assert.deepEqual(page.messages.filter((m) => m.clientId === ack.clientId).map((m) => m.seq), [ack.seq]);
  });

  test('the connection drops: the client reconnects, joins with since, and nothing is lost or doubled', { timeout: 60_000 }, async () => {
    const proxy = await tcpProxy();
    try {
      const alice = newClient(proxy.url);
      await alice.register(fresh('alice'), PASSWORD);
      const bob = await signedUp('bob');
      const room = fresh('js');
      await joinAll(room, alice, bob);
      const aliceSeen = record(alice, 'message');
      const bobSeen = record(bob, 'message');
      const aliceAcks = record(alice, 'ack');

      await sendAcked(alice, room, 'a1 before the drop');
      const dropped = next(alice, 'state', (d) => d.state === 'reconnecting');
      const resumed = next(alice, 'joined', (d) => d.room === room && d.resumed, 30_000);
      // On its way when the connection drops: stored or not, it must end up stored once.
      alice.send(room, 'a2 on the wire');
      proxy.cut();
      await dropped;
      assert.equal(alice.isReady(room), false);

      for (const text of ['b1 while alice is away', 'b2 while alice is away', 'b3 while alice is away']) {
        await sendAcked(bob, room, text);
      }
      alice.send(room, 'a3 typed while away'); // queued, sent once the room is joined again
      assert.ok(alice.pendingMessages().some((m) => m.text === 'a3 typed while away'));
      proxy.restore();
      await resumed;

      const texts = ['a1 before the drop', 'a2 on the wire', 'b1 while alice is away', 'b2 while alice is away',
        'b3 while alice is away', 'a3 typed while away'];
      await until('both to have all six messages', () => delivered(aliceSeen, room).length >= 6 && delivered(bobSeen, room).length >= 6, 20_000);
      await until('alice\'s three acks', () => aliceAcks.length >= 3);
      assert.deepEqual(alice.pendingMessages(), []);
      for (const [who, seen] of [['alice', aliceSeen], ['bob', bobSeen]]) {
        const messages = delivered(seen, room);
        const seqs = messages.map((m) => m.seq);
        assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), `${who}: every seq once, in order, no gap: ${seqs}`);
        assert.deepEqual(messages.map((m) => m.text).sort(), [...texts].sort(), `${who}'s messages`);
      }
      // b1..b3 came to alice in the replay of her join with `since`, in the order bob sent them.
      const aliceTexts = delivered(aliceSeen, room).map((m) => m.text);
      assert.ok(aliceTexts.indexOf('b1 while alice is away') < aliceTexts.indexOf('b3 while alice is away'));

      const stored = (await bob.history(room, { after: 0 })).messages.filter((m) => !m.event).map((m) => m.text);
      assert.deepEqual([...stored].sort(), [...texts].sort(), 'each message stored once');
      assert.equal(new Set(aliceAcks.map((a) => a.clientId)).size, 3);
    } finally {
      await proxy.close();
    }
  });

  test('paced sends: a burst past the server\'s burst goes out at its rate, in order, none refused', { timeout: 60_000 }, async () => {
    const frames = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url) {
        super(url);
        this.addEventListener('message', (ev) => frames.push(JSON.parse(String(ev.data))));
      }
    }
    const alice = newClient(serverUrl(), { WebSocket: RecordingWebSocket });
    await alice.register(fresh('alice'), PASSWORD);
    const room = fresh('js');
    await joinAll(room, alice);
    const limits = await alice.loadLimits();
    assert.equal(alice.limitsLoaded, true);

    // More than the burst: a client that did not pace would have the rest refused with rate_limited.
    const count = limits.sendBurst + limits.sendRate;
    const acks = record(alice, 'ack');
    const ids = [];
    for (let i = 1; i <= count; i++) ids.push(alice.send(room, `burst ${i}`));
    await until(`${count} acks`, () => acks.length === count, 30_000);

    const refused = frames.filter((f) => f.type === 'error');
    assert.deepEqual(refused, [], 'no send refused');
    assert.deepEqual(acks.map((a) => a.clientId), ids, 'acknowledged in the order sent');
    const seqs = acks.map((a) => a.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), 'stored in the order sent');
    const stored = await alice.history(room, { after: seqs[0] - 1, limit: limits.historyLimitMax });
    assert.deepEqual(stored.messages.slice(0, count).map((m) => m.text), ids.map((_, i) => `burst ${i + 1}`));
  });

  test('refusals come with their code: HTTP, a join, a send, and a text too long', { timeout: 60_000 }, async () => {
    const alice = await signedUp('alice');
    const bob = await signedUp('bob');

    const stranger = newClient();
    await assert.rejects(stranger.login(bob.username, 'not the password'), (e) => e.status === 401 && e.code === 'unauthorized');

    const room = fresh('ops');
    const made = await alice.createRoom({ name: room, visibility: 'private' });
    assert.equal(made.kind, 'private');
    await assert.rejects(bob.createRoom({ name: room }), (e) => e.status === 409 && e.code === 'conflict');

    // A private room answers a non-member's join as a room they may not enter, and the client forgets it.
    bob.connect();
    const refusedJoin = next(bob, 'error', (d) => d.room === room);
    bob.join(room);
    const err = await refusedJoin;
    assert.deepEqual([err.code, err.frame], ['forbidden', 'join']);
    assert.equal(bob.isJoined(room), false);

    // Invited, then muted: the join goes through, the send is refused, and kept with its reason.
    await alice.setMember(room, bob.username, {});
    await alice.setMember(room, bob.username, { mutedUntil: new Date(Date.now() + 3_600_000).toISOString() });
    await joinAll(room, bob);
    const refusedSend = next(bob, 'sendfailed', (d) => d.room === room);
    const clientId = bob.send(room, 'can you hear me?');
    const failed = await refusedSend;
    assert.deepEqual([failed.clientId, failed.code], [clientId, 'forbidden']);
    assert.match(failed.message, /muted/);
    assert.deepEqual(bob.failedMessages().map((m) => [m.clientId, m.failed.code]), [[clientId, 'forbidden']]);
    assert.equal(bob.discard(clientId), true);

    // Longer than the server takes: refused by the client, without a frame the server would close on.
    const tooLong = next(bob, 'sendfailed', (d) => d.room === room);
    bob.send(room, 'x'.repeat(bob.limits.maxTextLength + 1));
    assert.equal((await tooLong).code, 'too_large');

    await bob.loadLimits(); // the server's room-name rule, which join() checks names against
    assert.throws(() => bob.send('not-joined-here', 'hi'), (e) => e.code === 'not_joined');
    assert.throws(() => bob.join('Not A Room!'), (e) => e.code === 'bad_request');
  });

  test('presence comes a page at a time, and bans() gathers every page', { timeout: 60_000 }, async () => {
    const alice = await signedUp('alice');
    const bob = await signedUp('bob');
    const carol = await signedUp('carol');
    const room = fresh('pages');
    await alice.createRoom({ name: room }); // alice owns it, so she may ban
    await joinAll(room, alice, bob);
    const online = [alice.username, bob.username].sort();
    for (let i = 0; (await alice.presence(room)).users.length < 2; i++) {
      assert.ok(i < 200, 'both online within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }

    const first = await alice.presence(room, { limit: 1 });
    assert.deepEqual([first.users, first.next], [[online[0]], online[0]]);
    const second = await alice.presence(room, { limit: 1, cursor: first.next });
    assert.deepEqual([second.users, second.next], [[online[1]], null]);
    await assert.rejects(alice.presence(room, { limit: 0 }), (e) => e.status === 400 && e.code === 'bad_request');

    await alice.ban(room, carol.username, { reason: 'spam' });
    await alice.ban(room, bob.username);
    assert.deepEqual((await alice.bans(room)).map((b) => b.user).sort(), [bob.username, carol.username].sort());
  });

  test('after a close with 1002 or 1009 the client stays closed and says the code, as PROTOCOL.md 10 asks', { timeout: 60_000 }, async () => {
    // What a broken WebSocket library (1002) or a frame over the limit (1009) would do, provoked
    // under the client: the same would happen again, so reconnecting by itself would loop.
    const breakers = {
      1002: (ws) => ws._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])), // an unmasked text frame: a client must mask
      1009: (ws) => ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(20_000) })), // over the server's 16 KiB
    };
    for (const [code, breakFraming] of Object.entries(breakers)) {
      const alice = await signedUp('alice');
      const room = fresh('js');
      await joinAll(room, alice);
      const states = record(alice, 'state');
      const closed = next(alice, 'state', (d) => d.state !== 'open');
      breakFraming(alice._ws);
      const after = await closed;
      assert.deepEqual([after.state, after.code], ['closed', Number(code)], `after ${code}: ${JSON.stringify(states)}`);
      await new Promise((r) => setTimeout(r, 1_500)); // past the first reconnect's wait (under 1 s)
      assert.equal(alice.state, 'closed', `after ${code}: ${JSON.stringify(states)}`);
      assert.deepEqual(states.map((s) => s.state), ['closed'], `after ${code}`);

      // connect() is the way back.
      const rejoined = next(alice, 'joined', (d) => d.room === room);
      alice.connect();
      await rejoined;
    }
  });

  test('examples/node.mjs: prints what others say, sends each line piped in, and leaves once it is stored', { timeout: 60_000 }, async () => {
    const bob = await signedUp('bob');
    const room = fresh('js');
    await joinAll(room, bob);
    const bobSeen = record(bob, 'message');
    const user = fresh('example');
    const example = spawn(process.execPath, [fileURLToPath(new URL('../examples/node.mjs', import.meta.url)), serverUrl(), room, '--register'], {
      env: { ...process.env, PARLEY_USER: user, PARLEY_PASSWORD: PASSWORD },
    });
    let out = '';
    let err = '';
    example.stdout.on('data', (b) => { out += b; });
    example.stderr.on('data', (b) => { err += b; });
    const exited = once(example, 'exit');
    try {
      await until(`the example to join (its stderr: ${err})`, () => err.includes(`[joined #${room} at seq`));
      await sendAcked(bob, room, 'hi example');
      await until('the example to print it', () => out.includes(`${bob.username}: hi example`));
      example.stdin.end('hello from the example\n');
      const [code] = await Promise.race([exited, new Promise((_, reject) => setTimeout(
        () => reject(new Error(`the example did not exit; stdout:\n${out}\nstderr:\n${err}`)), 15_000).unref())]);
      assert.equal(code, 0, `exit code; stdout:\n${out}\nstderr:\n${err}`);
    } finally {
      example.kill();
    }
    assert.match(err, /\[stored as #\d+\]/);
    await until('bob to get the line', () => delivered(bobSeen, room).some((m) => m.from === user && m.text === 'hello from the example'));
  });
});

// Type-checked by `npm run types` (tsc), never run: the public API used as a TypeScript program would
// use it, so that index.d.ts cannot drift into something that does not compile or that misnames a field.
import { ChatClient, DEFAULT_LIMITS, ROOM_NAME_RE, expiryMillis, nextLink, readState } from 'parley-client';
import type { ChatError, Message, Limits, RoomInfo } from 'parley-client';

async function example(): Promise<void> {
  const client = new ChatClient('http://localhost:8080', { WebSocket: globalThis.WebSocket });
  const session = await client.login('alice', 'alice-password');
  const name: string = session.username;
  client.on('message', ({ room, message, pending }) => {
    const m: Message = message;
    if (!pending && m.seq !== null) console.log(room, m.seq, m.from, m.text, m.mentions ?? []);
  });
  client.on('ack', ({ clientId, seq, earlier }) => console.log(clientId, seq + 1, earlier));
  client.on('sendfailed', ({ code, message }) => console.log(code.toUpperCase(), message));
  client.on('joined', ({ room, lastSeq, resumed, unread }) => console.log(room, lastSeq, resumed, unread));
  client.on('state', ({ state, delay }) => console.log(state === 'reconnecting' ? delay ?? 0 : state));
  client.on('error', ({ code, frame }) => console.log(code, frame));
  const off = client.on('limits', ({ limits }) => console.log(limits.sendRate));
  off();
  client.connect();
  client.join('general');
  const id: string | null = client.send('general', `hello from ${name}`, { replyTo: 1 });
  if (id) client.retry(id);
  const rooms: RoomInfo[] = await client.rooms({ kind: 'public' });
  const page = await client.history('general', { after: 0, limit: 10 });
  console.log(rooms.length, page.messages.length, client.pendingMessages().length, client.lastSeq('general'));
  const limits: Limits = await client.loadLimits();
  console.log(limits.maxTextLength, DEFAULT_LIMITS.sendBurst, ROOM_NAME_RE.test('general'));
  console.log(expiryMillis(session.expiresAt, session.token), nextLink(null), readState({}).unread);
  try {
    await client.createRoom({ name: 'ops', visibility: 'private' });
  } catch (e) {
    const err = e as ChatError;
    console.log(err.status, err.code);
  }
  client.close();
  client.logout();
}

void example;

// A terminal chat on parley-client, in Node: prints a room's messages as they come, and sends each
// line typed (or piped in). The connection comes back by itself after a drop, with nothing missed.
//
//   npm install parley-client ws          # ws: Node 20 has no WebSocket of its own (Node 22 does)
//   PARLEY_USER=alice PARLEY_PASSWORD='correct horse battery' node node.mjs http://localhost:8080 lobby [--register]
//
// The password comes from the environment, not the command line, where `ps` shows it to everyone.
// Ctrl-D (or the end of piped input) waits until every line sent is stored, then leaves.
import { createInterface } from 'node:readline';
import { ChatClient } from 'parley-client';

const WebSocket = globalThis.WebSocket ?? (await import('ws')).default;
const [url = 'http://localhost:8080', room = 'lobby', ...flags] = process.argv.slice(2);
const { PARLEY_USER: user, PARLEY_PASSWORD: password } = process.env;
if (!user || !password) {
  console.error('usage: PARLEY_USER=... PARLEY_PASSWORD=... node node.mjs [url] [room] [--register]');
  process.exit(2);
}

const client = new ChatClient(url, { WebSocket });
try {
  await (flags.includes('--register') ? client.register(user, password) : client.login(user, password));
} catch (e) {
  // A refusal carries the HTTP status and the protocol's error code (PROTOCOL.md 8).
  console.error(`cannot sign in: ${e.message} (${e.status} ${e.code})`);
  process.exit(1);
}

const time = (ts) => new Date(ts).toLocaleTimeString();
const print = (m) => console.log(m.event ? `${time(m.ts)} * ${m.text}` : `${time(m.ts)} ${m.from}: ${m.text}`);

// Status goes to stderr, the conversation to stdout.
client.on('state', ({ state, code, delay }) => {
  if (state === 'reconnecting') console.error(`[connection lost${code ? ` (${code})` : ''}; again in ${delay ?? 0} ms]`);
});
client.on('joined', ({ room: r, lastSeq, resumed }) => console.error(`[${resumed ? 'back in' : 'joined'} #${r} at seq ${lastSeq}]`));
client.on('history', ({ messages, initial }) => { if (initial) messages.forEach(print); }); // the last screenful
client.on('message', ({ message, pending }) => { if (!pending) print(message); }); // our own too, once stored
client.on('ack', ({ seq }) => console.error(`[stored as #${seq}]`));
client.on('sendfailed', ({ code, message }) => console.error(`[not sent: ${message} (${code})]`));
client.on('error', ({ code, message }) => console.error(`[${code}: ${message}]`));
client.on('unauthorized', ({ reason }) => { console.error(`[signed out: ${reason}]`); process.exit(1); });

client.connect();
client.join(room);

const input = createInterface({ input: process.stdin });
input.on('line', (line) => { if (line.trim()) client.send(room, line); }); // paced to the server's limits, in order
input.on('close', async () => {
  // Unacknowledged lines are re-sent after a reconnect, under the same clientId: wait for them.
  await new Promise((resolve) => {
    const check = () => { if (client.pendingMessages().length === 0) { offAck(); offFailed(); resolve(); } };
    const offAck = client.on('ack', check);
    const offFailed = client.on('sendfailed', check);
    check();
  });
  client.close();
  process.exitCode = client.failedMessages().length ? 1 : 0;
});

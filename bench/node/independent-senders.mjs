// A second client for bench's scenario 2 (issue 22): rooms of members where one member of each room
// sends on its own timer, each send its own write, the timers' phases random. It exists to compare
// with `bench fanout`, whose senders are Java/Netty on an even schedule, what a different client costs
// the server. It measures what the client sees (end-to-end latency of every delivery, which includes
// this one thread's own delay, and exactness); the server's CPU is read from /proc/PID/stat over the
// measured window when --server-pid is given (utime + stime, at Linux's usual 100 ticks a second).
//
//   npm install                           # in this directory (ws: Node 20 has no WebSocket of its own)
//   node independent-senders.mjs --url http://127.0.0.1:18080 --rooms 100 --members 10 --rate 10 \
//        --warmup 30 --duration 20 --phases random --server-pid $SERVER
//
// --phases even starts sender i at i/rooms of the period (as bench does); random at a random point.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const opts = { url: 'http://127.0.0.1:18080', rooms: 100, members: 10, rate: 10, warmup: 30, duration: 20, phases: 'random', prefix: 'ind', serverPid: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!(key in opts)) throw new Error(`unknown option ${argv[i]}`);
  opts[key] = typeof opts[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
}
const wsUrl = opts.url.replace(/^http/, 'ws') + '/ws';
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

async function register(name) {
  const res = await fetch(`${opts.url}/api/auth/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: name, password: 'bench-password-0' }),
  });
  if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

function connect(token, room, member) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}?token=${token}`, { perMessageDeflate: false });
    const c = { ws, room, member, lastSeq: 0, acked: 0, seen: 0, dup: 0, disorder: 0 };
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', room, ref: 'j' })));
    ws.on('message', (data) => {
      const f = JSON.parse(data);
      if (f.type === 'joined') resolve(c);
      else if (f.type === 'message') received(c, f);
      else if (f.type === 'ack') c.acked++;
      else if (f.type === 'error') console.error(`error frame: ${data}`);
    });
    ws.on('close', (code) => { if (!stopping) console.error(`closed ${code} (${room} member ${member})`); });
  });
}

const latencies = [];
let measuring = false;
let stopping = false;
function received(c, f) {
  if (f.seq <= c.lastSeq) { if (f.seq === c.lastSeq) c.dup++; else c.disorder++; return; }
  c.lastSeq = f.seq;
  c.seen++;
  const sentAt = Number(f.text.slice(0, f.text.indexOf(' ')));
  if (measuring && sentAt >= windowStart) latencies.push(now() - sentAt);
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

const clients = [];
const stamp = Date.now().toString(36);
for (let r = 0; r < opts.rooms; r++) {
  const room = `${opts.prefix}${stamp}r${r}`;
  for (let m = 0; m < opts.members; m++) {
    const token = await register(`${opts.prefix}${stamp}u${r}x${m}`);
    clients.push(await connect(token, room, m));
  }
}
console.error(`${clients.length} connections joined`);

const senders = clients.filter((c) => c.member === 0);
const senderOf = new Map(senders.map((c) => [c.room, c]));
const period = 1000 / opts.rate;
const filler = 'x'.repeat(100);
let sent = 0;
let windowStart = Infinity;
senders.forEach((c, i) => {
  const offset = opts.phases === 'even' ? (i * period) / senders.length : Math.random() * period;
  let n = 0;
  setTimeout(() => {
    const tick = () => {
      if (stopping) return;
      n++;
      sent++;
      const text = `${now().toFixed(3)} ${filler}`.slice(0, 100);
      c.ws.send(JSON.stringify({ type: 'send', room: c.room, text, clientId: `c${i}-${n}` }));
    };
    tick();
    setInterval(tick, period);
  }, offset);
});

await new Promise((r) => setTimeout(r, opts.warmup * 1000));
windowStart = now();
measuring = true;
const cpu0 = opts.serverPid ? cpuTicks(opts.serverPid) : 0;
const t0 = now();
await new Promise((r) => setTimeout(r, opts.duration * 1000));
const cpu1 = opts.serverPid ? cpuTicks(opts.serverPid) : 0;
const seconds = (now() - t0) / 1000;
measuring = false;
stopping = true;
await new Promise((r) => setTimeout(r, 2000)); // what is in flight arrives
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(2);
const result = {
  phases: opts.phases, rooms: opts.rooms, members: opts.members, rate: opts.rate,
  sent, acked: senders.reduce((s, c) => s + c.acked, 0),
  deliveriesMeasured: latencies.length,
  p50ms: q(0.5), p99ms: q(0.99), p999ms: q(0.999), maxms: latencies.at(-1)?.toFixed(2),
  // A member that saw fewer messages of its room than its sender had acked missed some.
  losses: clients.reduce((s, c) => s + Math.max(0, senderOf.get(c.room).acked - c.seen), 0),
  duplicates: clients.reduce((s, c) => s + c.dup, 0), disorder: clients.reduce((s, c) => s + c.disorder, 0),
  serverCore: opts.serverPid ? ((cpu1 - cpu0) / 100 / seconds).toFixed(3) : null,
};
console.log(JSON.stringify(result));
for (const c of clients) c.ws.terminate();
process.exit(0);

// A busy room (200 sends/s from one connection) with or without reactions (on/off, 5 a second) in
// it: the send acks' latency, to see what a room event's prepared write costs the room's sends.
import WebSocket from 'ws';
const [url, reactsPerSec, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 30)];
const post = async (path, body, token) => (await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify(body) })).json();
const name = 's' + Math.random().toString(36).slice(2, 8);
const { token } = await post('/api/auth/register', { username: name, password: 'correct horse battery' });
const { ticket } = await post('/api/auth/ticket', {}, token);
const ws = new WebSocket(url.replace('http', 'ws') + '/ws?ticket=' + ticket);
await new Promise(r => ws.on('open', r));
const room = 'stall-' + name;
const sent = new Map(); const lat = []; let target = 0, on = false, reactAcks = 0, errors = 0, measuring = false;
ws.on('message', (d) => {
  const f = JSON.parse(d);
  if (f.type === 'ack' && sent.has(f.ref)) { if (measuring) lat.push(performance.now() - sent.get(f.ref)); sent.delete(f.ref); if (!target) target = f.seq; }
  else if (f.type === 'ack' && f.ref?.startsWith('r')) reactAcks++;
  else if (f.type === 'error') errors++;
});
ws.send(JSON.stringify({ type: 'join', room, ref: 'j' }));
await new Promise(r => setTimeout(r, 500));
let n = 0;
const sendTimer = setInterval(() => { for (let i = 0; i < 2; i++) { const ref = 'm' + n++; sent.set(ref, performance.now()); ws.send(JSON.stringify({ type: 'send', room, text: 'busy ' + n, clientId: ref, ref })); } }, 10);
let rn = 0;
const reactTimer = reactsPerSec > 0 ? setInterval(() => { if (!target) return; on = !on; ws.send(JSON.stringify({ type: 'react', room, seq: target, emoji: '👍', on, ref: 'r' + rn++ })); }, 1000 / reactsPerSec) : null;
await new Promise(r => setTimeout(r, 10000)); // warm-up
measuring = true;
await new Promise(r => setTimeout(r, seconds * 1000));
measuring = false; clearInterval(sendTimer); if (reactTimer) clearInterval(reactTimer);
await new Promise(r => setTimeout(r, 1000));
lat.sort((a, b) => a - b);
const q = p => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
console.log(`reacts/s ${reactsPerSec} acks ${lat.length} p50 ${q(0.5)} p99 ${q(0.99)} p99.9 ${q(0.999)} max ${lat.at(-1).toFixed(2)} ms; reaction acks ${reactAcks} errors ${errors}`);
process.exit(0);

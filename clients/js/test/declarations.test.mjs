// index.d.ts against the module: every name the module exports, and every public member of
// ChatClient, has a declaration (and nothing is declared that is not there). Needs no server.
// tsc (`npm run types`) checks that the declarations compile and fit test/usage.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as module from '../chat-client.js';

const dts = await readFile(new URL('../index.d.ts', import.meta.url), 'utf8');

/** The names index.d.ts declares as values (not types) at the top level. */
function declaredValues() {
  return [...dts.matchAll(/^export declare (?:const|function|class) (\w+)/gm)].map((m) => m[1]).sort();
}

/** The members declared in the body of `declare class ChatClient`. */
function declaredMembers() {
  const body = dts.slice(dts.indexOf('export declare class ChatClient'));
  return new Set([...body.matchAll(/^ {2}(?:readonly )?(\w+)[(<:?]/gm)].map((m) => m[1]));
}

test('every export of chat-client.js is declared in index.d.ts, and nothing more', () => {
  assert.deepEqual(declaredValues(), Object.keys(module).sort());
});

test('every public method, getter and field of ChatClient is declared', () => {
  const declared = declaredMembers();
  const proto = Object.getOwnPropertyNames(module.ChatClient.prototype).filter((n) => n !== 'constructor' && !n.startsWith('_'));
  const fields = Object.keys(new module.ChatClient('http://localhost:1')).filter((n) => !n.startsWith('_'));
  const missing = [...proto, ...fields].filter((n) => !declared.has(n));
  assert.deepEqual(missing, [], `not in index.d.ts: ${missing.join(', ')}`);
  const extra = [...declared].filter((n) => n !== 'constructor' && !proto.includes(n) && !fields.includes(n));
  assert.deepEqual(extra, [], `declared but not in chat-client.js: ${extra.join(', ')}`);
});

test('the package exports what its manifest says', async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', default: './chat-client.js' });
  const self = await import('parley-client');
  assert.equal(self.ChatClient, module.ChatClient);
});

test('examples/browser.html is the example docs/WEB_CLIENT.md shows, which WebClientIT runs in Chromium', async () => {
  const doc = await readFile(new URL('../../../docs/WEB_CLIENT.md', import.meta.url), 'utf8');
  const block = /```html\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'an html example in docs/WEB_CLIENT.md');
  assert.equal(await readFile(new URL('../examples/browser.html', import.meta.url), 'utf8'), block[1]);
});

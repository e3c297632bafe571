import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBackendContract, rejection } from '../../../src/store/backend.contract.js';
import { SqliteBackend } from '../../../src/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-sqlite-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = (): string => join(dir, `db-${n++}.sqlite`);

runBackendContract('sqlite', async () => new SqliteBackend(freshFile()));

test('sqlite: data, revision counter and compact revision survive a restart', async () => {
  const file = freshFile();
  const b1 = new SqliteBackend(file);
  await b1.start();
  const a = await b1.create('/r/a', 'a1');
  const a2 = await b1.update('/r/a', 'a2', a.modRevision);
  const gone = await b1.create('/r/gone', 'g');
  const del = await b1.delete('/r/gone');
  await b1.compact(del.modRevision);
  await b1.close();

  const b2 = new SqliteBackend(file);
  await b2.start();
  try {
    assert.equal(await b2.currentRevision(), del.modRevision);
    assert.equal(await b2.compactRevision(), del.modRevision);
    assert.deepEqual(await b2.get('/r/a'), a2);
    assert.equal(await b2.get('/r/gone'), undefined);
    await rejection(b2.list('/r/', { revision: gone.modRevision }), 'Compacted');
    // The newest row (a tombstone) was compacted away, yet its revision is never reused.
    const next = await b2.create('/r/b', 'b');
    assert.equal(next.modRevision, del.modRevision + 1);
  } finally {
    await b2.close();
  }
});

test('sqlite: compaction removes superseded rows and tombstones from the file', async () => {
  const file = freshFile();
  const b = new SqliteBackend(file);
  await b.start();
  let kv = await b.create('/c/a', '0');
  for (let i = 1; i <= 100; i++) kv = await b.update('/c/a', `${i}`, kv.modRevision);
  for (let i = 0; i < 50; i++) {
    await b.create(`/c/tmp${i}`, 'x');
    await b.delete(`/c/tmp${i}`);
  }
  await b.compact(await b.currentRevision());
  await b.close();
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT name, value FROM kine').all();
  db.close();
  assert.deepEqual(rows, [{ name: '/c/a', value: '100' }]);
});

test('sqlite: automatic compaction keeps the newest revisions and can be stopped', async () => {
  const b = new SqliteBackend(freshFile());
  await b.start();
  try {
    let kv = await b.create('/auto/a', '0');
    for (let i = 1; i < 30; i++) kv = await b.update('/auto/a', `${i}`, kv.modRevision);
    const stop = b.startAutoCompaction(5, 10);
    const deadline = Date.now() + 3000;
    while ((await b.compactRevision()) !== 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await b.compactRevision(), 20);
    await rejection(b.get('/auto/a', 19), 'Compacted');
    assert.equal((await b.get('/auto/a', 20))?.value, '19');
    stop();
    await b.update('/auto/a', 'x', kv.modRevision);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(await b.compactRevision(), 20, 'stopped auto compaction does not run again');
  } finally {
    await b.close();
  }
});

test('sqlite: every acknowledged write survives kill -9 of the writing process', async () => {
  const file = freshFile();
  const script = fileURLToPath(new URL('../../support/sqlite-writer.js', import.meta.url));
  const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: { rev: number; key: string }[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`writer too slow: ${acked.length} acks; ${stderr}`)), 20000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [rev, key] = line.split(' ');
        if (key !== undefined) acked.push({ rev: Number(rev), key });
      }
      if (acked.length >= 3000 && child.exitCode === null && !child.killed) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
  });
  assert.equal(await exited, 'SIGKILL');

  const b = new SqliteBackend(file);
  await b.start();
  try {
    const last = acked[acked.length - 1];
    assert.ok(last);
    assert.ok((await b.currentRevision()) >= last.rev);
    const stored = new Map((await b.list('/registry/durable/')).items.map((kv) => [kv.key, kv.modRevision]));
    const missing = acked.filter((a) => stored.get(a.key) !== a.rev);
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged writes lost`);
  } finally {
    await b.close();
  }
});

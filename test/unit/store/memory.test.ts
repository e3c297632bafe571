import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBackendContract } from '../../../src/store/backend.contract.js';
import { MemoryBackend } from '../../../src/store/memory.js';

runBackendContract('memory', async () => new MemoryBackend());

test('memory: returned values are frozen, so callers cannot rewrite history', async () => {
  const b = new MemoryBackend();
  await b.start();
  const kv = await b.create('/a', 'v');
  assert.throws(() => {
    (kv as { value: string }).value = 'changed';
  }, TypeError);
  assert.equal((await b.get('/a'))?.value, 'v');
  await b.close();
});

test('memory: close breaks open watches with Unavailable', async () => {
  const b = new MemoryBackend();
  await b.start();
  const errors: string[] = [];
  await b.watch('/', 0, () => undefined, (err) => errors.push(err.code));
  await b.close();
  assert.deepEqual(errors, ['Unavailable']);
});

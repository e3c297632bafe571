import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/client/workqueue.js';
import { FakeClock } from '../../../src/machinery/clock.js';

/** Polls a queue through one outstanding get(): the next item if one is ready now, else 'none'. */
function poller<T>(q: WorkQueue<T>): () => Promise<T | 'none' | undefined> {
  let pending: Promise<void> | undefined;
  let got: { v: T | undefined } | undefined;
  return async () => {
    pending ??= q.get().then((v) => {
      got = { v };
    });
    await new Promise((r) => setImmediate(r));
    if (!got) return 'none';
    const v = got.v;
    got = undefined;
    pending = undefined;
    return v;
  };
}

test('WorkQueue: an item added twice is handed out once, in FIFO order with others', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  q.done('a');
  q.done('b');
  assert.equal(q.length, 0);
});

test('WorkQueue: a key being processed is not handed to a second worker; re-added, it comes back after done', async () => {
  const q = new WorkQueue<string>();
  q.add('k');
  assert.equal(await q.get(), 'k');
  q.add('k'); // changed while a worker has it
  q.add('k');
  assert.equal(q.length, 0, 'not queued while processing');
  const second = q.get();
  let handed = false;
  void second.then(() => (handed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(handed, false, 'a second worker must not get the key while the first has it');
  q.done('k');
  assert.equal(await second, 'k', 'the re-add is processed once after done');
  q.done('k');
  assert.equal(await poller(q)(), 'none', 'and only once');
});

test('WorkQueue: a waiting worker gets an item as soon as it is added', async () => {
  const q = new WorkQueue<string>();
  const got = q.get();
  q.add('x');
  assert.equal(await got, 'x');
});

test('WorkQueue: addRateLimited doubles the delay per failure and forget resets it', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock, baseDelayMs: 100, maxDelayMs: 350 });
  const poll = poller(q);
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    q.addRateLimited('k');
    const start = clock.now().getTime();
    let got: string | 'none' | undefined = 'none';
    while (got === 'none') {
      await clock.step(50);
      got = await poll();
    }
    assert.equal(got, 'k');
    delays.push(clock.now().getTime() - start);
    q.done('k');
  }
  assert.deepEqual(delays, [100, 200, 350, 350], 'exponential, capped at maxDelay');
  assert.equal(q.numRequeues('k'), 4);
  q.forget('k');
  assert.equal(q.numRequeues('k'), 0);
  q.addRateLimited('k');
  await clock.step(99);
  assert.equal(await poll(), 'none');
  await clock.step(1);
  assert.equal(await poll(), 'k', 'back to the base delay after forget');
});

test('WorkQueue: addAfter keeps the earlier of two times for the same item', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  const poll = poller(q);
  q.addAfter('k', 60_000);
  q.addAfter('k', 1_000); // e.g. a retry due sooner than a scheduled resync
  await clock.step(1_000);
  assert.equal(await poll(), 'k');
  q.done('k');
  q.addAfter('j', 1_000);
  q.addAfter('j', 60_000);
  await clock.step(1_000);
  assert.equal(await poll(), 'j');
  q.done('j');
  await clock.step(60_000);
  assert.equal(await poll(), 'none', 'each item was queued once');
});

test('WorkQueue: shutDown releases waiting workers, drops delayed items and refuses new ones', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({ clock });
  const waiting = q.get();
  q.addAfter('later', 1_000);
  q.shutDown();
  assert.equal(await waiting, undefined);
  q.add('new');
  await clock.step(2_000);
  assert.equal(await q.get(), undefined);
  assert.equal(clock.pendingTimers, 0);
});

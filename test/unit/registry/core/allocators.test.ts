import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPAllocator } from '../../../../src/apiserver/registry/allocators/ip-allocator.js';
import { PortAllocator, AllocationError } from '../../../../src/apiserver/registry/allocators/port-allocator.js';
import { seededRandom } from './harness.js';

test('ip allocator: a /29 hands out .2–.6 dynamically, never the network, .1 or broadcast', () => {
  const a = new IPAllocator('10.0.0.0/29', seededRandom(1));
  const got = new Set<string>();
  for (let i = 0; i < 5; i++) got.add(a.allocateNext());
  assert.deepEqual([...got].sort(), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  assert.throws(() => a.allocateNext(), (e: unknown) => e instanceof AllocationError && e.message === 'range is full');
  a.allocate('10.0.0.1');
  assert.throws(() => a.allocate('10.0.0.7'), /the provided IP \(10\.0\.0\.7\) is not in the valid range\. The range of valid IPs is 10\.0\.0\.0\/29/);
  a.release('10.0.0.4');
  assert.equal(a.allocateNext(), '10.0.0.4');
});

test('ip allocator: IPv6 ranges work too', () => {
  const a = new IPAllocator('fd00:43::/112', seededRandom(3));
  const ip = a.allocateNext();
  assert.match(ip, /^fd00:43::[0-9a-f]+$/);
  a.allocate('fd00:43::1');
  assert.throws(() => a.allocate('fd00:43::1'), /provided IP is already allocated/);
});

test('port allocator: fills the whole range without repeats, then refuses', () => {
  const p = new PortAllocator([30000, 30099], seededRandom(7));
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) seen.add(p.allocateNext());
  assert.equal(seen.size, 100);
  assert.equal(Math.min(...seen), 30000);
  assert.equal(Math.max(...seen), 30099);
  assert.throws(() => p.allocateNext(), /range is full/);
  p.release(30050);
  assert.equal(p.allocateNext(), 30050);
});

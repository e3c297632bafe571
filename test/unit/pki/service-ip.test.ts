import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstServiceIp } from '../../../src/pki/service-ip.js';

test('firstServiceIp is the network address plus one', () => {
  assert.equal(firstServiceIp('10.43.0.0/16'), '10.43.0.1');
  assert.equal(firstServiceIp('10.96.0.0/12'), '10.96.0.1');
  assert.equal(firstServiceIp('10.43.7.9/16'), '10.43.0.1');
  assert.equal(firstServiceIp('192.168.1.128/25'), '192.168.1.129');
  assert.equal(firstServiceIp('fd00:43::/112'), 'fd00:43::1');
  assert.equal(firstServiceIp('2001:db8:1:2::ff00/120'), '2001:db8:1:2::ff01');
});

test('firstServiceIp refuses what is not a CIDR', () => {
  assert.throws(() => firstServiceIp('10.43.0.0'), /invalid service CIDR/);
  assert.throws(() => firstServiceIp('nonsense/16'), /invalid service CIDR/);
  assert.throws(() => firstServiceIp('10.0.0.0/40'), /invalid service CIDR/);
});

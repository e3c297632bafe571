/**
 * What real containers need of the machine: mounted cgroups. runc fails every sandbox without
 * them ("no cgroup mount found in mountinfo"); k8ts says so at start, with what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cgroupsMounted, cgroupsUnavailable } from '../../../src/kubelet/containerd/binaries.js';

const sysfs = '22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw';
const proc = '23 27 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw';

test('cgroup v1 and v2 mounts count; a table without them does not', () => {
  assert.equal(cgroupsMounted([sysfs, '30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory', proc].join('\n')), true);
  assert.equal(cgroupsMounted([sysfs, '35 25 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate', proc].join('\n')), true);
  assert.equal(cgroupsMounted([sysfs, proc, '40 27 0:40 / /tmp/cgroup-notes rw - tmpfs tmpfs rw'].join('\n')), false);
  assert.match(cgroupsUnavailable([sysfs, proc].join('\n')) ?? '', /nsenter --net/);
});

test('this machine has them; `ip netns exec` hides them, `nsenter --net` does not', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  assert.equal(cgroupsUnavailable(readFileSync('/proc/self/mountinfo', 'utf8')), undefined);
  const ns = `k8tspf${process.pid}`;
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  try {
    const viaIp = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/self/mountinfo'], { encoding: 'utf8' });
    assert.equal(cgroupsMounted(viaIp.stdout), false);
    const viaNsenter = spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'cat', '/proc/self/mountinfo'], { encoding: 'utf8' });
    assert.equal(cgroupsMounted(viaNsenter.stdout), true);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

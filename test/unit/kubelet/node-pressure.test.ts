import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PressureTracker, defaultThresholds, pressureOf } from '../../../src/kubelet/stats/eviction-thresholds.js';
import type { Summary } from '../../../src/kubelet/stats/stats-provider.js';
import { NodeStatusReporter } from '../../../src/kubelet/node-status.js';
import type { Client } from '../../../src/client/interface.js';

const Mi = 1024 * 1024;

function node(o: { memAvail?: number; fsAvail?: number; fsCap?: number; inodesFree?: number; inodes?: number; curproc?: number; imageAvail?: number; imageInodesFree?: number }): Summary['node'] {
  const t = '2026-01-01T00:00:00Z';
  return {
    nodeName: 'n',
    startTime: t,
    cpu: { time: t, usageCoreNanoSeconds: 0 },
    memory: { time: t, availableBytes: o.memAvail ?? 4096 * Mi, usageBytes: 0, workingSetBytes: 0 },
    fs: { time: t, availableBytes: o.fsAvail ?? 50, capacityBytes: o.fsCap ?? 100, inodesFree: o.inodesFree ?? 50, inodes: o.inodes ?? 100 },
    runtime: { imageFs: { time: t, availableBytes: o.imageAvail ?? 50, capacityBytes: 100, inodesFree: o.imageInodesFree ?? 50, inodes: 100 } },
    rlimit: { time: t, maxpid: 32768, curproc: o.curproc ?? 100 },
  };
}

test('the default hard eviction thresholds: memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%, imagefs.inodesFree<5%', () => {
  assert.deepEqual(pressureOf(node({})), { memory: false, disk: false, pid: false });
  assert.equal(pressureOf(node({ memAvail: 99 * Mi })).memory, true);
  assert.equal(pressureOf(node({ memAvail: 100 * Mi })).memory, false);
  assert.equal(pressureOf(node({ fsAvail: 9, fsCap: 100 })).disk, true);
  assert.equal(pressureOf(node({ fsAvail: 10, fsCap: 100 })).disk, false);
  assert.equal(pressureOf(node({ inodesFree: 4, inodes: 100 })).disk, true);
  assert.equal(pressureOf(node({ inodesFree: 5, inodes: 100 })).disk, false);
  assert.equal(pressureOf(node({ imageAvail: 14 })).disk, true, 'the image filesystem has its own, higher threshold');
  assert.equal(pressureOf(node({ imageAvail: 15 })).disk, false);
  assert.equal(pressureOf(node({ imageInodesFree: 4 })).disk, true);
  assert.equal(pressureOf(node({ memAvail: 1 })).disk, false, 'memory pressure is not disk pressure');
  // No PID threshold by default on Linux; one configured applies.
  assert.equal(pressureOf(node({ curproc: 32700 })).pid, false);
  assert.equal(pressureOf(node({ curproc: 32700 }), { ...defaultThresholds, pidAvailableFraction: 0.1 }).pid, true);
  assert.equal(pressureOf(node({ curproc: 100 }), { ...defaultThresholds, pidAvailableFraction: 0.1 }).pid, false);
});

test('pressure shows in the node conditions with the kubelet\'s reasons', () => {
  let pressure = { memory: true, disk: false, pid: false };
  const r = new NodeStatusReporter({} as Client, { nodeName: 'n', capacity: { cpu: '2', memory: '4Gi', pods: '110' }, internalIP: '10.0.0.1', pressure: () => pressure });
  type Cond = { type: string; status: string; reason: string; message: string; lastTransitionTime: string };
  const conds = (s: Record<string, unknown>): Cond[] => s['conditions'] as Cond[];
  const first = r.desiredStatus(undefined);
  assert.deepEqual(conds(first).find((c) => c.type === 'MemoryPressure'), { ...conds(first).find((c) => c.type === 'MemoryPressure'), status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' });
  assert.equal(conds(first).find((c) => c.type === 'DiskPressure')?.reason, 'KubeletHasNoDiskPressure');
  assert.equal(conds(first).find((c) => c.type === 'Ready')?.status, 'True');
  pressure = { memory: false, disk: true, pid: false };
  const second = r.desiredStatus({ metadata: { name: 'n' }, status: first });
  assert.equal(conds(second).find((c) => c.type === 'MemoryPressure')?.reason, 'KubeletHasSufficientMemory');
  assert.deepEqual([conds(second).find((c) => c.type === 'DiskPressure')?.status, conds(second).find((c) => c.type === 'DiskPressure')?.reason], ['True', 'KubeletHasDiskPressure']);
});

test('a pressure condition stays for the transition period after the threshold was last crossed', () => {
  const t = new PressureTracker(defaultThresholds, 5 * 60_000);
  assert.equal(t.observe(node({}), 0).memory, false);
  assert.equal(t.observe(node({ memAvail: 50 * Mi }), 10_000).memory, true);
  assert.equal(t.observe(node({}), 20_000).memory, true, 'recovered, but within 5 minutes of the last crossing');
  assert.equal(t.observe(node({}), 10_000 + 5 * 60_000 - 1).memory, true);
  assert.deepEqual(t.observe(node({}), 10_000 + 5 * 60_000), { memory: false, disk: false, pid: false });
  assert.deepEqual(t.observe(node({ fsAvail: 1 }), 400_000), { memory: false, disk: true, pid: false });
});

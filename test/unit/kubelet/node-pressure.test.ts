import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pressureOf } from '../../../src/kubelet/stats/eviction-thresholds.js';
import type { Summary } from '../../../src/kubelet/stats/stats-provider.js';
import { NodeStatusReporter } from '../../../src/kubelet/node-status.js';
import type { Client } from '../../../src/client/interface.js';

const Mi = 1024 * 1024;

function node(o: { memAvail?: number; fsAvail?: number; fsCap?: number; inodesFree?: number; inodes?: number; curproc?: number }): Summary['node'] {
  const t = '2026-01-01T00:00:00Z';
  return {
    nodeName: 'n',
    startTime: t,
    cpu: { time: t, usageCoreNanoSeconds: 0 },
    memory: { time: t, availableBytes: o.memAvail ?? 4096 * Mi, usageBytes: 0, workingSetBytes: 0 },
    fs: { time: t, availableBytes: o.fsAvail ?? 50, capacityBytes: o.fsCap ?? 100, inodesFree: o.inodesFree ?? 50, inodes: o.inodes ?? 100 },
    rlimit: { time: t, maxpid: 32768, curproc: o.curproc ?? 100 },
  };
}

test('the default hard eviction thresholds: memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%', () => {
  assert.deepEqual(pressureOf(node({})), { memory: false, disk: false, pid: false });
  assert.equal(pressureOf(node({ memAvail: 99 * Mi })).memory, true);
  assert.equal(pressureOf(node({ memAvail: 100 * Mi })).memory, false);
  assert.equal(pressureOf(node({ fsAvail: 9, fsCap: 100 })).disk, true);
  assert.equal(pressureOf(node({ fsAvail: 10, fsCap: 100 })).disk, false);
  assert.equal(pressureOf(node({ inodesFree: 4, inodes: 100 })).disk, true);
  // No PID threshold by default on Linux; one configured applies.
  assert.equal(pressureOf(node({ curproc: 32700 })).pid, false);
  assert.equal(pressureOf(node({ curproc: 32700 }), { memoryAvailableBytes: 0, nodefsAvailableFraction: 0, nodefsInodesFreeFraction: 0, pidAvailableFraction: 0.1 }).pid, true);
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

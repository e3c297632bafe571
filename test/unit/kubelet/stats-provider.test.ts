import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { StatsProvider, type StatsRuntime } from '../../../src/kubelet/stats/stats-provider.js';

const v = (n: number): { value: string } => ({ value: String(n) });
const ns = (ms: number): string => String(BigInt(ms) * 1_000_000n);

/** A runtime whose container counters the test sets (CPU in core-nanoseconds). */
function fakeRuntime(dir: string) {
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const cpu: Record<string, number> = { c1: 0, c2: 0, c3: 0 };
  const containers = [
    { id: 'c1', pod: 'web', uid: 'u1', name: 'app', state: 'CONTAINER_RUNNING', limit: 64 * 1024 * 1024 },
    { id: 'c2', pod: 'web', uid: 'u1', name: 'sidecar', state: 'CONTAINER_RUNNING', limit: 0 },
    { id: 'c3', pod: 'done', uid: 'u2', name: 'job', state: 'CONTAINER_EXITED', limit: 0 },
  ];
  const calls: string[] = [];
  const cri: StatsRuntime = {
    runtime: async <T>(method: string): Promise<T> => {
      calls.push(method);
      if (method === 'ListContainers') return { containers: containers.map((c) => ({ id: c.id, state: c.state, createdAt: ns(Date.parse('2026-03-01T09:00:00Z')) })) } as T;
      if (method === 'ListContainerStats') {
        return {
          stats: containers.map((c) => ({
            attributes: { id: c.id, metadata: { name: c.name }, labels: { 'io.kubernetes.pod.name': c.pod, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': c.uid, 'io.kubernetes.container.name': c.name } },
            cpu: { timestamp: ns(clock), usageCoreNanoSeconds: v(cpu[c.id] ?? 0) },
            memory: { timestamp: ns(clock), workingSetBytes: v(1000), usageBytes: v(1500), rssBytes: v(800), availableBytes: c.limit ? v(c.limit - 1000) : null },
            writableLayer: { timestamp: ns(clock), usedBytes: v(4096), inodesUsed: v(3) },
          })),
        } as T;
      }
      throw new Error(`unexpected ${method}`);
    },
    image: async <T>(method: string): Promise<T> => {
      assert.equal(method, 'ImageFsInfo');
      return { imageFilesystems: [{ timestamp: ns(clock), fsId: { mountpoint: dir }, usedBytes: v(123_456), inodesUsed: v(42) }] } as T;
    },
  };
  return { cri, cpu, calls, advance: (ms: number) => (clock += ms), now: () => clock };
}

test('the Summary: node from the machine, pods from the runtime\'s container stats, in stats/v1alpha1 field names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-stats-'));
  try {
    const logs = join(dir, 'logs');
    mkdirSync(join(logs, 'default_web_u1', 'app'), { recursive: true });
    writeFileSync(join(logs, 'default_web_u1', 'app', '0.log'), 'x'.repeat(2000));
    const rt = fakeRuntime(dir);
    const p = new StatsProvider({ cri: rt.cri, nodeName: 'n1', dataDir: dir, podLogsDir: logs, now: rt.now, podStartTime: (uid) => (uid === 'u1' ? '2026-03-01T08:59:00Z' : undefined) });
    const first = await p.summary();
    assert.equal(first.node.nodeName, 'n1');
    assert.equal(first.node.cpu.usageNanoCores, undefined, 'one sample makes no rate');
    assert.ok(first.node.cpu.usageCoreNanoSeconds > 0);
    assert.ok(first.node.memory.workingSetBytes > 0 && first.node.memory.availableBytes! > 0);
    assert.ok(first.node.fs.capacityBytes! > 0 && first.node.fs.inodes! > 0);
    assert.equal(first.node.runtime?.imageFs?.usedBytes, 123_456);
    assert.ok(first.node.runtime?.imageFs?.capacityBytes! > 0);
    assert.ok(first.node.rlimit.maxpid > 0 && first.node.rlimit.curproc > 0);
    assert.deepEqual(first.pods.map((x) => x.podRef), [{ name: 'web', namespace: 'default', uid: 'u1' }], 'exited containers report nothing');

    rt.advance(10_000);
    rt.cpu['c1'] = 2.5e9; // 250m over 10 s
    rt.cpu['c2'] = 1e8; // 10m
    const second = await p.summary();
    const web = second.pods[0]!;
    assert.equal(web.startTime, '2026-03-01T08:59:00Z');
    assert.deepEqual(web.containers.map((c) => [c.name, c.cpu.usageNanoCores, c.cpu.usageCoreNanoSeconds]), [
      ['app', 2.5e8, 2.5e9],
      ['sidecar', 1e7, 1e8],
    ]);
    const app = web.containers[0]!;
    assert.equal(app.startTime, '2026-03-01T09:00:00Z');
    assert.equal(app.cpu.time, '2026-03-01T10:00:10Z');
    assert.deepEqual([app.memory.workingSetBytes, app.memory.usageBytes, app.memory.rssBytes, app.memory.availableBytes], [1000, 1500, 800, 64 * 1024 * 1024 - 1000]);
    assert.equal(web.containers[1]!.memory.availableBytes, undefined, 'no limit, no availableBytes');
    assert.deepEqual([app.rootfs?.usedBytes, app.rootfs?.inodesUsed], [4096, 3]);
    assert.equal(app.logs?.usedBytes, 2000);
    assert.equal(web.containers[1]!.logs?.usedBytes, 0);
    assert.deepEqual([web.cpu.usageNanoCores, web.memory.workingSetBytes], [2.6e8, 2000]);
    assert.equal(web['ephemeral-storage']?.usedBytes, 4096 * 2 + 2000);
    const json = JSON.parse(JSON.stringify(second)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ['node', 'pods']);
    assert.ok('ephemeral-storage' in (json['pods'] as Array<Record<string, unknown>>)[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second caller right after the first gets the rate of the last full window, not a noisy short one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-stats-'));
  try {
    const rt = fakeRuntime(dir);
    const p = new StatsProvider({ cri: rt.cri, nodeName: 'n1', dataDir: dir, now: rt.now });
    await p.summary();
    rt.advance(10_000);
    rt.cpu['c1'] = 1e9;
    assert.equal((await p.summary()).pods[0]?.containers[0]?.cpu.usageNanoCores, 1e8);
    rt.advance(200);
    rt.cpu['c1'] = 1.2e9; // a burst over 200 ms would read as 1 core
    assert.equal((await p.summary()).pods[0]?.containers[0]?.cpu.usageNanoCores, 1e8);
    rt.advance(9_800);
    rt.cpu['c1'] = 3e9; // 2 core-seconds over the 10 s since the last full sample
    assert.equal((await p.summary()).pods[0]?.containers[0]?.cpu.usageNanoCores, 2e8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

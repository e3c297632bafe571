/**
 * The kubelet's Summary API (`GET /stats/summary`, k8s.io/kubelet/pkg/apis/stats/v1alpha1): the
 * node's CPU, memory, filesystem and process counts read from the machine (the root cgroup when
 * cgroups v1 has one, /proc otherwise), and every pod's containers from the runtime's
 * ListContainerStats. CPU rates (`usageNanoCores`) come from two cumulative samples, as cAdvisor
 * computes them.
 */
import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import type { CriClient } from '../cri/cri-client.js';
import { labels } from '../pod-sync.js';

interface CpuStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds: number;
}

interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes: number;
  workingSetBytes: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

export interface ContainerStats {
  name: string;
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
  rootfs?: FsStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStats[];
  cpu: CpuStats;
  memory: MemoryStats;
}

export interface Summary {
  node: {
    nodeName: string;
    startTime: string;
    cpu: CpuStats;
    memory: MemoryStats;
    fs: FsStats;
    rlimit: { time: string; maxpid: number; curproc: number };
  };
  pods: PodStats[];
}

interface CriStat {
  attributes: { id: string; metadata: { name: string }; labels: Record<string, string> };
  cpu?: { timestamp: string; usageCoreNanoSeconds?: { value: string } | null } | null;
  memory?: { timestamp: string; workingSetBytes?: { value: string } | null; usageBytes?: { value: string } | null; rssBytes?: { value: string } | null; pageFaults?: { value: string } | null; majorPageFaults?: { value: string } | null } | null;
  writableLayer?: { timestamp: string; usedBytes?: { value: string } | null; inodesUsed?: { value: string } | null } | null;
}

const num = (v: { value: string } | null | undefined): number => Number(v?.value ?? 0);
const iso = (nanos: string | number): string => new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString().replace(/\.\d+Z$/, 'Z');

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)(?: kB)?/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return out;
}

/** The machine's cumulative CPU time in nanoseconds: the root cpuacct cgroup, else /proc/stat. */
function nodeCpuNanos(): number {
  const cgroup = readNumber('/sys/fs/cgroup/cpuacct/cpuacct.usage') ?? readNumber('/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage');
  if (cgroup !== undefined) return cgroup;
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait, in USER_HZ (100/s).
  const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
  return busy * 10_000_000;
}

/** The node's working set as the kubelet computes it: usage minus inactive file pages. */
function nodeMemory(): { usage: number; workingSet: number; available: number; total: number } {
  const info = meminfo();
  const total = info['MemTotal'] ?? 0;
  const usage = readNumber('/sys/fs/cgroup/memory/memory.usage_in_bytes');
  let inactiveFile = 0;
  try {
    inactiveFile = Number(/^total_inactive_file (\d+)/m.exec(readFileSync('/sys/fs/cgroup/memory/memory.stat', 'utf8'))?.[1] ?? 0);
  } catch {
    inactiveFile = info['Inactive(file)'] ?? 0;
  }
  const used = usage !== undefined && usage < total * 4 ? usage : total - (info['MemFree'] ?? 0);
  const workingSet = Math.max(0, used - inactiveFile);
  return { usage: used, workingSet, available: Math.max(0, total - workingSet), total };
}

function processCount(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

export interface StatsProviderOptions {
  cri: CriClient;
  nodeName: string;
  /** The filesystem holding the kubelet's data (`nodefs`). */
  dataDir: string;
  /** Pod start times by uid (`status.startTime`), when known. */
  podStartTime?: (uid: string) => string | undefined;
}

export class StatsProvider {
  private readonly bootTime = new Date(Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  /** Last cumulative CPU sample per container id (and `node`), for rates. */
  private readonly lastCpu = new Map<string, { at: number; nanos: number }>();
  private readonly started = new Map<string, string>();

  constructor(private readonly o: StatsProviderOptions) {}

  /** Nanocores between this cumulative sample and the previous one of `key`. */
  private rate(key: string, atNanos: number, cumulative: number): number | undefined {
    const prev = this.lastCpu.get(key);
    this.lastCpu.set(key, { at: atNanos, nanos: cumulative });
    if (!prev || atNanos <= prev.at || cumulative < prev.nanos) return undefined;
    return Math.round(((cumulative - prev.nanos) / (atNanos - prev.at)) * 1e9);
  }

  async summary(): Promise<Summary> {
    const now = Date.now();
    const nowIso = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const nodeCpu = nodeCpuNanos();
    const mem = nodeMemory();
    const fs = statfsSync(this.o.dataDir);
    const [res, running] = await Promise.all([
      this.o.cri.runtime<{ stats: CriStat[] }>('ListContainerStats', {}),
      this.o.cri.runtime<{ containers: Array<{ id: string; state: string }> }>('ListContainers', {}),
    ]);
    // Like cAdvisor, which sees only live cgroups: exited containers report nothing.
    const live = new Set(running.containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id));
    const pods = new Map<string, PodStats>();
    const seen = new Set<string>(['node']);
    for (const s of res.stats) {
      const l = s.attributes.labels;
      const uid = l[labels.podUid];
      if (!uid || !live.has(s.attributes.id)) continue;
      seen.add(s.attributes.id);
      const cpuAt = s.cpu?.timestamp ?? String(BigInt(now) * 1_000_000n);
      const cumulative = num(s.cpu?.usageCoreNanoSeconds);
      if (!this.started.has(s.attributes.id)) this.started.set(s.attributes.id, nowIso);
      const container: ContainerStats = {
        name: s.attributes.metadata.name,
        startTime: this.started.get(s.attributes.id)!,
        cpu: { time: iso(cpuAt), usageNanoCores: this.rate(s.attributes.id, Number(BigInt(cpuAt) / 1000n) * 1000, cumulative), usageCoreNanoSeconds: cumulative },
        memory: {
          time: iso(s.memory?.timestamp ?? cpuAt),
          usageBytes: num(s.memory?.usageBytes),
          workingSetBytes: num(s.memory?.workingSetBytes),
          rssBytes: num(s.memory?.rssBytes),
          pageFaults: num(s.memory?.pageFaults),
          majorPageFaults: num(s.memory?.majorPageFaults),
        },
        rootfs: s.writableLayer ? { time: iso(s.writableLayer.timestamp), usedBytes: num(s.writableLayer.usedBytes), inodesUsed: num(s.writableLayer.inodesUsed) } : undefined,
      };
      let pod = pods.get(uid);
      if (!pod) {
        pod = {
          podRef: { name: l[labels.podName] ?? '', namespace: l[labels.podNamespace] ?? '', uid },
          startTime: this.o.podStartTime?.(uid) ?? container.startTime,
          containers: [],
          cpu: { time: container.cpu.time, usageNanoCores: 0, usageCoreNanoSeconds: 0 },
          memory: { time: container.memory.time, usageBytes: 0, workingSetBytes: 0, rssBytes: 0 },
        };
        pods.set(uid, pod);
      }
      pod.containers.push(container);
      pod.cpu.usageCoreNanoSeconds += cumulative;
      if (pod.cpu.usageNanoCores !== undefined) pod.cpu.usageNanoCores = container.cpu.usageNanoCores === undefined ? undefined : pod.cpu.usageNanoCores + container.cpu.usageNanoCores;
      pod.memory.usageBytes += container.memory.usageBytes;
      pod.memory.workingSetBytes += container.memory.workingSetBytes;
      pod.memory.rssBytes = (pod.memory.rssBytes ?? 0) + (container.memory.rssBytes ?? 0);
    }
    // Containers that are gone take their samples with them.
    for (const k of [...this.lastCpu.keys()]) if (!seen.has(k)) this.lastCpu.delete(k);
    for (const k of [...this.started.keys()]) if (!seen.has(k)) this.started.delete(k);
    return {
      node: {
        nodeName: this.o.nodeName,
        startTime: this.bootTime,
        cpu: { time: nowIso, usageNanoCores: this.rate('node', now * 1_000_000, nodeCpu), usageCoreNanoSeconds: nodeCpu },
        memory: { time: nowIso, availableBytes: mem.available, usageBytes: mem.usage, workingSetBytes: mem.workingSet },
        fs: {
          time: nowIso,
          availableBytes: fs.bavail * fs.bsize,
          capacityBytes: fs.blocks * fs.bsize,
          usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
          inodesFree: fs.ffree,
          inodes: fs.files,
          inodesUsed: fs.files - fs.ffree,
        },
        rlimit: { time: nowIso, maxpid: readNumber('/proc/sys/kernel/pid_max') ?? 32768, curproc: processCount() },
      },
      pods: [...pods.values()],
    };
  }
}

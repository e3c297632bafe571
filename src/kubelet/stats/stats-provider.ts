/**
 * The kubelet's Summary API (`GET /stats/summary`, k8s.io/kubelet/pkg/apis/stats/v1alpha1): the
 * node's CPU, memory, network, filesystems and process counts read from the machine (the root
 * cgroup when cgroups v1 has one, /proc otherwise), the image filesystem from the runtime's
 * ImageFsInfo, and every pod's containers from the runtime's ListContainerStats plus their log
 * files. CPU rates (`usageNanoCores`) come from two cumulative samples, as cAdvisor computes them.
 */
import { readFileSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { labels } from '../container-config.js';

/** stats/v1alpha1 CPUStats. */
export interface CpuStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds: number;
}

/** stats/v1alpha1 MemoryStats (`availableBytes` only when there is a limit). */
export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes: number;
  workingSetBytes: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** stats/v1alpha1 FsStats. */
export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** stats/v1alpha1 InterfaceStats. */
export interface InterfaceStats {
  name: string;
  rxBytes?: number;
  rxErrors?: number;
  txBytes?: number;
  txErrors?: number;
}

/** stats/v1alpha1 NetworkStats: the default interface inline, and all of them. */
export interface NetworkStats extends Partial<InterfaceStats> {
  time: string;
  interfaces?: InterfaceStats[];
}

export interface ContainerStats {
  name: string;
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStats[];
  cpu: CpuStats;
  memory: MemoryStats;
  'ephemeral-storage'?: FsStats;
}

export interface NodeStats {
  nodeName: string;
  startTime: string;
  cpu: CpuStats;
  memory: MemoryStats;
  network?: NetworkStats;
  fs: FsStats;
  runtime?: { imageFs?: FsStats };
  rlimit: { time: string; maxpid: number; curproc: number };
}

export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}

type Value = { value: string } | null | undefined;

interface CriStat {
  attributes: { id: string; metadata: { name: string }; labels: Record<string, string> };
  cpu?: { timestamp: string; usageCoreNanoSeconds?: Value } | null;
  memory?: { timestamp: string; workingSetBytes?: Value; availableBytes?: Value; usageBytes?: Value; rssBytes?: Value; pageFaults?: Value; majorPageFaults?: Value } | null;
  writableLayer?: { timestamp: string; usedBytes?: Value; inodesUsed?: Value } | null;
}

interface CriFsUsage {
  timestamp: string;
  fsId?: { mountpoint?: string } | null;
  usedBytes?: Value;
  inodesUsed?: Value;
}

/** The CRI calls the provider makes (a CriClient fits). */
export interface StatsRuntime {
  runtime<T>(method: string, request?: Record<string, unknown>): Promise<T>;
  image<T>(method: string, request?: Record<string, unknown>): Promise<T>;
}

const num = (v: Value): number => Number(v?.value ?? 0);
/** metav1.Time: RFC 3339 in whole seconds. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const iso = (nanos: string | number): string => rfc3339(Number(BigInt(nanos) / 1_000_000n));

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
    const m = /^(\w+\(?\w*\)?):\s+(\d+)(?: kB)?/.exec(line);
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

/**
 * The node's memory as the kubelet computes it: working set = usage minus inactive file pages,
 * available = capacity minus working set (what `memory.available` is judged on).
 */
function nodeMemory(): { usage: number; workingSet: number; available: number; total: number } {
  const info = meminfo();
  const total = info['MemTotal'] ?? 0;
  const usage = readNumber('/sys/fs/cgroup/memory/memory.usage_in_bytes');
  let inactiveFile: number;
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

/** Counters of the machine's interfaces; the default one is that of the default route. */
function nodeNetwork(time: string): NetworkStats | undefined {
  try {
    const interfaces: InterfaceStats[] = [];
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
      // cAdvisor leaves out loopback and the host ends of container links.
      if (!m || /^(lo|veth|docker|nerdctl)/.test(m[1]!)) continue;
      const f = m[2]!.trim().split(/\s+/).map(Number);
      interfaces.push({ name: m[1]!, rxBytes: f[0] ?? 0, rxErrors: f[2] ?? 0, txBytes: f[8] ?? 0, txErrors: f[10] ?? 0 });
    }
    const route = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).find((f) => f[1] === '00000000');
    const dflt = interfaces.find((i) => i.name === route?.[0]);
    return { time, ...(dflt ?? {}), interfaces };
  } catch {
    return undefined;
  }
}

/** Capacity and free space of the filesystem holding `path`. */
export function filesystemOf(path: string, time: string): FsStats {
  const fs = statfsSync(path);
  return {
    time,
    availableBytes: fs.bavail * fs.bsize,
    capacityBytes: fs.blocks * fs.bsize,
    usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
    inodesFree: fs.ffree,
    inodes: fs.files,
    inodesUsed: fs.files - fs.ffree,
  };
}

/** Bytes and inodes under a directory (a container's log files). */
function duOf(dir: string): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      inodes++;
      if (e.isFile()) bytes += statSync(join(dir, e.name)).size;
    }
  } catch {
    // No logs yet.
  }
  return { bytes, inodes };
}

export interface StatsProviderOptions {
  cri: StatsRuntime;
  nodeName: string;
  /** The filesystem holding the kubelet's data (`nodefs`). */
  dataDir: string;
  /** Where pod logs live (`NS_NAME_UID/CONTAINER/N.log`), for containers' `logs`. */
  podLogsDir?: string;
  /** Pod start times by uid (`status.startTime`), when known. */
  podStartTime?: (uid: string) => string | undefined;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
  /**
   * The shortest window a CPU rate is computed over (5 s unless told): a second caller right
   * after the first (housekeeping, then a scrape) gets the rate of the last full window.
   */
  minRateWindowMs?: number;
}

export class StatsProvider {
  private readonly bootTime = rfc3339(Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000);
  /** Last cumulative CPU sample per container id (and `node`), and the rate it gave, for rates. */
  private readonly lastCpu = new Map<string, { at: number; nanos: number; rate?: number }>();
  private readonly now: () => number;

  constructor(private readonly o: StatsProviderOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Nanocores between this cumulative sample (at `atMs`) and the previous one of `key`. */
  private rate(key: string, atMs: number, cumulative: number): number | undefined {
    const prev = this.lastCpu.get(key);
    if (prev && cumulative >= prev.nanos && atMs - prev.at < (this.o.minRateWindowMs ?? 5_000) && atMs >= prev.at) return prev.rate;
    const rate = prev && atMs > prev.at && cumulative >= prev.nanos ? Math.round(((cumulative - prev.nanos) * 1000) / (atMs - prev.at)) : undefined;
    this.lastCpu.set(key, { at: atMs, nanos: cumulative, rate });
    return rate;
  }

  private async imageFs(time: string): Promise<FsStats | undefined> {
    try {
      const res = await this.o.cri.image<{ imageFilesystems?: CriFsUsage[] }>('ImageFsInfo', {});
      const u = res.imageFilesystems?.[0];
      if (!u) return undefined;
      const fs = u.fsId?.mountpoint ? filesystemOf(u.fsId.mountpoint, time) : filesystemOf(this.o.dataDir, time);
      return { ...fs, time: iso(u.timestamp || String(BigInt(this.now()) * 1_000_000n)), usedBytes: num(u.usedBytes), inodesUsed: num(u.inodesUsed) };
    } catch {
      return undefined;
    }
  }

  async summary(): Promise<Summary> {
    const now = this.now();
    const nowIso = rfc3339(now);
    const nodeCpu = nodeCpuNanos();
    const mem = nodeMemory();
    const nodefs = filesystemOf(this.o.dataDir, nowIso);
    const [res, running, imageFs] = await Promise.all([
      this.o.cri.runtime<{ stats: CriStat[] }>('ListContainerStats', {}),
      this.o.cri.runtime<{ containers: Array<{ id: string; state: string; createdAt?: string }> }>('ListContainers', {}),
      this.imageFs(nowIso),
    ]);
    const containerFs = imageFs ?? nodefs;
    // Like cAdvisor, which sees only live cgroups: exited containers report nothing.
    const live = new Map(running.containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => [c.id, c.createdAt && c.createdAt !== '0' ? iso(c.createdAt) : nowIso]));
    const pods = new Map<string, PodStats>();
    const seen = new Set<string>(['node']);
    for (const s of res.stats) {
      const l = s.attributes.labels;
      const uid = l[labels.podUid];
      if (!uid || !live.has(s.attributes.id)) continue;
      seen.add(s.attributes.id);
      const cpuAt = s.cpu?.timestamp && s.cpu.timestamp !== '0' ? s.cpu.timestamp : String(BigInt(now) * 1_000_000n);
      const cumulative = num(s.cpu?.usageCoreNanoSeconds);
      const namespace = l[labels.podNamespace] ?? '';
      const podName = l[labels.podName] ?? '';
      const name = s.attributes.metadata.name;
      const available = num(s.memory?.availableBytes);
      const memTime = s.memory?.timestamp && s.memory.timestamp !== '0' ? s.memory.timestamp : cpuAt;
      const container: ContainerStats = {
        name,
        startTime: live.get(s.attributes.id) ?? nowIso,
        cpu: { time: iso(cpuAt), usageNanoCores: this.rate(s.attributes.id, Number(BigInt(cpuAt) / 1_000_000n), cumulative), usageCoreNanoSeconds: cumulative },
        memory: {
          time: iso(memTime),
          ...(available > 0 ? { availableBytes: available } : {}),
          usageBytes: num(s.memory?.usageBytes),
          workingSetBytes: num(s.memory?.workingSetBytes),
          rssBytes: num(s.memory?.rssBytes),
          pageFaults: num(s.memory?.pageFaults),
          majorPageFaults: num(s.memory?.majorPageFaults),
        },
      };
      if (s.writableLayer) {
        container.rootfs = { ...containerFs, time: iso(s.writableLayer.timestamp || cpuAt), usedBytes: num(s.writableLayer.usedBytes), inodesUsed: num(s.writableLayer.inodesUsed) };
      }
      if (this.o.podLogsDir) {
        const du = duOf(join(this.o.podLogsDir, `${namespace}_${podName}_${uid}`, name));
        container.logs = { ...nodefs, usedBytes: du.bytes, inodesUsed: du.inodes };
      }
      let pod = pods.get(uid);
      if (!pod) {
        pod = {
          podRef: { name: podName, namespace, uid },
          startTime: this.o.podStartTime?.(uid) ?? container.startTime,
          containers: [],
          cpu: { time: container.cpu.time, usageNanoCores: 0, usageCoreNanoSeconds: 0 },
          memory: { time: container.memory.time, usageBytes: 0, workingSetBytes: 0, rssBytes: 0 },
          'ephemeral-storage': { ...nodefs, usedBytes: 0, inodesUsed: 0 },
        };
        pods.set(uid, pod);
      }
      pod.containers.push(container);
      pod.cpu.usageCoreNanoSeconds += cumulative;
      if (pod.cpu.usageNanoCores !== undefined) pod.cpu.usageNanoCores = container.cpu.usageNanoCores === undefined ? undefined : pod.cpu.usageNanoCores + container.cpu.usageNanoCores;
      pod.memory.usageBytes += container.memory.usageBytes;
      pod.memory.workingSetBytes += container.memory.workingSetBytes;
      pod.memory.rssBytes = (pod.memory.rssBytes ?? 0) + (container.memory.rssBytes ?? 0);
      // Ephemeral storage: writable layers and logs (emptyDir volumes are not measured).
      const eph = pod['ephemeral-storage']!;
      eph.usedBytes = (eph.usedBytes ?? 0) + (container.rootfs?.usedBytes ?? 0) + (container.logs?.usedBytes ?? 0);
      eph.inodesUsed = (eph.inodesUsed ?? 0) + (container.rootfs?.inodesUsed ?? 0) + (container.logs?.inodesUsed ?? 0);
    }
    // Containers that are gone take their samples with them.
    for (const k of [...this.lastCpu.keys()]) if (!seen.has(k)) this.lastCpu.delete(k);
    const network = nodeNetwork(nowIso);
    return {
      node: {
        nodeName: this.o.nodeName,
        startTime: this.bootTime,
        cpu: { time: nowIso, usageNanoCores: this.rate('node', now, nodeCpu), usageCoreNanoSeconds: nodeCpu },
        memory: { time: nowIso, availableBytes: mem.available, usageBytes: mem.usage, workingSetBytes: mem.workingSet },
        ...(network ? { network } : {}),
        fs: nodefs,
        runtime: { imageFs: imageFs ?? nodefs },
        rlimit: { time: nowIso, maxpid: readNumber('/proc/sys/kernel/pid_max') ?? 32768, curproc: processCount() },
      },
      pods: [...pods.values()],
    };
  }
}

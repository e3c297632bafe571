/**
 * The kubelet's default hard eviction thresholds on Linux (memory.available<100Mi,
 * nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%, imagefs.inodesFree<5%;
 * pid.available has no default), judged against a Summary's node stats: which node pressure
 * conditions hold. As the eviction manager does, a condition stays for the pressure transition
 * period (5 minutes) after its threshold was last crossed, so it does not flap. Eviction itself
 * (killing pods to relieve the pressure) is not done; the conditions are reported.
 */
import type { FsStats, NodeStats } from './stats-provider.js';

export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export interface Thresholds {
  memoryAvailableBytes: number;
  nodefsAvailableFraction: number;
  nodefsInodesFreeFraction: number;
  imagefsAvailableFraction: number;
  imagefsInodesFreeFraction: number;
  /** Linux has no default PID threshold; PIDPressure needs one configured. */
  pidAvailableFraction?: number;
}

export const defaultThresholds: Thresholds = {
  memoryAvailableBytes: 100 * 1024 * 1024,
  nodefsAvailableFraction: 0.1,
  nodefsInodesFreeFraction: 0.05,
  imagefsAvailableFraction: 0.15,
  imagefsInodesFreeFraction: 0.05,
};

/** The kubelet's `--eviction-pressure-transition-period` default. */
export const defaultPressureTransitionMs = 5 * 60_000;

/** The node stats thresholds are judged on. */
export type NodeSignals = Pick<NodeStats, 'memory' | 'fs' | 'rlimit' | 'runtime'>;

function below(fs: FsStats | undefined, availableFraction: number, inodesFreeFraction: number): boolean {
  if (!fs) return false;
  const bytes = fs.capacityBytes && fs.availableBytes !== undefined ? fs.availableBytes / fs.capacityBytes < availableFraction : false;
  const inodes = fs.inodes && fs.inodesFree !== undefined ? fs.inodesFree / fs.inodes < inodesFreeFraction : false;
  return bytes || inodes;
}

/** Which thresholds are crossed by these stats right now. */
export function pressureOf(s: NodeSignals, t: Thresholds = defaultThresholds): Pressure {
  const memory = s.memory.availableBytes !== undefined && s.memory.availableBytes < t.memoryAvailableBytes;
  const disk = below(s.fs, t.nodefsAvailableFraction, t.nodefsInodesFreeFraction) || below(s.runtime?.imageFs, t.imagefsAvailableFraction, t.imagefsInodesFreeFraction);
  const pid = t.pidAvailableFraction !== undefined && s.rlimit.maxpid > 0 ? (s.rlimit.maxpid - s.rlimit.curproc) / s.rlimit.maxpid < t.pidAvailableFraction : false;
  return { memory, disk, pid };
}

/**
 * Pressure as the node reports it: a condition holds from the first observation that crosses its
 * threshold until `transitionMs` after the last one.
 */
export class PressureTracker {
  private readonly lastSeen: Record<keyof Pressure, number | undefined> = { memory: undefined, disk: undefined, pid: undefined };

  constructor(
    private readonly thresholds: Thresholds = defaultThresholds,
    private readonly transitionMs = defaultPressureTransitionMs,
  ) {}

  /** Judges a new observation (taken at `nowMs`) and answers the pressure to report. */
  observe(s: NodeSignals, nowMs: number): Pressure {
    const crossed = pressureOf(s, this.thresholds);
    const out: Pressure = { memory: false, disk: false, pid: false };
    for (const k of ['memory', 'disk', 'pid'] as const) {
      if (crossed[k]) this.lastSeen[k] = nowMs;
      const last = this.lastSeen[k];
      out[k] = last !== undefined && nowMs - last < this.transitionMs;
    }
    return out;
  }
}

/**
 * The kubelet's default hard eviction thresholds (memory.available<100Mi, nodefs.available<10%,
 * nodefs.inodesFree<5%), judged against a Summary: which node pressure conditions hold. Eviction
 * itself (killing pods to relieve the pressure) is not done; the conditions are reported.
 */
import type { Summary } from './stats-provider.js';

export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export interface Thresholds {
  memoryAvailableBytes: number;
  nodefsAvailableFraction: number;
  nodefsInodesFreeFraction: number;
  /** Linux has no default PID threshold; PIDPressure needs one configured. */
  pidAvailableFraction?: number;
}

export const defaultThresholds: Thresholds = { memoryAvailableBytes: 100 * 1024 * 1024, nodefsAvailableFraction: 0.1, nodefsInodesFreeFraction: 0.05 };

export function pressureOf(s: Summary['node'], t: Thresholds = defaultThresholds): Pressure {
  const memory = s.memory.availableBytes !== undefined && s.memory.availableBytes < t.memoryAvailableBytes;
  const fs = s.fs;
  const diskBytes = fs.capacityBytes ? (fs.availableBytes ?? fs.capacityBytes) / fs.capacityBytes < t.nodefsAvailableFraction : false;
  const diskInodes = fs.inodes ? (fs.inodesFree ?? fs.inodes) / fs.inodes < t.nodefsInodesFreeFraction : false;
  const pid = t.pidAvailableFraction !== undefined && s.rlimit.maxpid > 0 ? (s.rlimit.maxpid - s.rlimit.curproc) / s.rlimit.maxpid < t.pidAvailableFraction : false;
  return { memory, disk: diskBytes || diskInodes, pid };
}

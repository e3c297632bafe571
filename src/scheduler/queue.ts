/**
 * The scheduling queue (Kubernetes' PriorityQueue): activeQ by priority then age; backoffQ for
 * pods that failed recently (1 s doubling to 10 s); unschedulable pods wait for a cluster event
 * that may help, or 5 minutes, whichever comes first.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../machinery/clock.js';
import { PodInfo } from './framework.js';

/** Cluster changes that may make unschedulable pods fit. */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'PersistentVolumeChange'
  | 'PersistentVolumeClaimChange'
  | 'StorageClassChange'
  | 'UnschedulableTimeout';

/** A pending pod with its queue bookkeeping. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  key: string;
  /** When it (re)entered the active queue; older first among equal priorities. */
  timestamp: number;
  initialAttemptTimestamp: number | undefined;
  attempts: number;
  /** Plugins that rejected it in its last attempt: only events they care about move it. */
  unschedulablePlugins: Set<string>;
  /** When it went to the unschedulable set. */
  unschedulableSince: number;
}

export interface SchedulingQueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a pod may sit unschedulable before it is retried anyway (5 min). */
  maxUnschedulableMs?: number;
  /** Which plugins' rejections each event may cure; absent means every event moves every pod. */
  interests?: Partial<Record<ClusterEvent, string[]>>;
}

/** Which rejections each event may cure (a coarse version of Kubernetes' queueing hints). */
export const defaultInterests: Partial<Record<ClusterEvent, string[]>> = {
  AssignedPodAdd: ['InterPodAffinity', 'PodTopologySpread'],
  AssignedPodUpdate: ['InterPodAffinity', 'PodTopologySpread', 'NodeResourcesFit'],
  PersistentVolumeChange: ['VolumeBinding'],
  PersistentVolumeClaimChange: ['VolumeBinding'],
  StorageClassChange: ['VolumeBinding'],
};

class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Removes matching items (O(n), rare). */
  remove(pred: (x: T) => boolean): void {
    const keep = this.items.filter((x) => !pred(x));
    this.items.length = 0;
    for (const x of keep) this.push(x);
  }
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly interests: Partial<Record<ClusterEvent, string[]>>;
  /** Live entries by key; a heap entry whose object is no longer here is stale and skipped. */
  private readonly active = new Map<string, QueuedPodInfo>();
  private readonly activeQ = new Heap<QueuedPodInfo>((a, b) => a.podInfo.priority > b.podInfo.priority || (a.podInfo.priority === b.podInfo.priority && a.timestamp < b.timestamp));
  private readonly backoff = new Map<string, QueuedPodInfo>();
  private readonly backoffQ = new Heap<QueuedPodInfo>((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Pods popped and being scheduled. */
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private readonly waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  private cycle = 0;
  private moveRequestCycle = -1;
  private closed = false;
  private backoffTimer: { at: number; cancel: () => void } | undefined;
  private cancelFlush: (() => void) | undefined;
  /** node → pods nominated to it by preemption. */
  private readonly nominated = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNodeOf = new Map<string, string>();

  constructor(opts: SchedulingQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 300_000;
    this.interests = opts.interests ?? defaultInterests;
    this.scheduleUnschedulableFlush();
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  /** 1 s, 2 s, 4 s … up to 10 s after the last attempt. */
  backoffDuration(q: QueuedPodInfo): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < q.attempts && d < this.maxBackoffMs; i++) d *= 2;
    return Math.min(d, this.maxBackoffMs);
  }

  private lastAttempt = new Map<string, number>();

  private backoffExpiry(q: QueuedPodInfo): number {
    return (this.lastAttempt.get(q.key) ?? 0) + this.backoffDuration(q);
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const pi = new PodInfo(pod);
    if (this.has(pi.key)) return this.update(pod);
    this.pushActive({ podInfo: pi, key: pi.key, timestamp: this.now(), initialAttemptTimestamp: undefined, attempts: 0, unschedulablePlugins: new Set(), unschedulableSince: 0 });
    this.updateNominated(pi);
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  /** The pod changed: refresh it; an unschedulable pod whose spec changed gets another try. */
  update(pod: Pod): void {
    const pi = new PodInfo(pod);
    const key = pi.key;
    this.updateNominated(pi);
    const a = this.active.get(key);
    if (a) {
      const reorder = a.podInfo.priority !== pi.priority;
      a.podInfo = pi;
      if (reorder) {
        this.activeQ.remove((x) => x.key === key);
        this.activeQ.push(a);
      }
      return;
    }
    const b = this.backoff.get(key);
    if (b) {
      b.podInfo = pi;
      return;
    }
    const f = this.inFlight.get(key);
    if (f) {
      f.podInfo = pi;
      return;
    }
    const u = this.unschedulable.get(key);
    if (u) {
      const old = u.podInfo.pod;
      u.podInfo = pi;
      if (JSON.stringify(old.spec) !== JSON.stringify(pod.spec) || JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) {
        this.unschedulable.delete(key);
        this.requeue(u);
      }
      return;
    }
    this.add(pod);
  }

  delete(pod: Pod): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    if (this.active.delete(key)) this.activeQ.remove((x) => x.key === key);
    if (this.backoff.delete(key)) this.backoffQ.remove((x) => x.key === key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
    this.lastAttempt.delete(key);
    this.deleteNominated(key);
  }

  /** The next pod to schedule; waits while none is ready; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const q = this.popNow();
    if (q || this.closed) return Promise.resolve(q);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private popNow(): QueuedPodInfo | undefined {
    for (;;) {
      const q = this.activeQ.pop();
      if (!q) return undefined;
      if (this.active.get(q.key) !== q) continue;
      this.active.delete(q.key);
      this.cycle++;
      q.attempts++;
      if (q.initialAttemptTimestamp === undefined) q.initialAttemptTimestamp = this.now();
      this.inFlight.set(q.key, q);
      this.lastAttempt.set(q.key, this.now());
      (q as QueuedPodInfo & { cycle?: number }).cycle = this.cycle;
      return q;
    }
  }

  /** The pod was scheduled (or given up on): it leaves the queue. */
  done(key: string): void {
    this.inFlight.delete(key);
    this.lastAttempt.delete(key);
  }

  /**
   * After a failed attempt: to the unschedulable set, or to backoff if a cluster event arrived
   * while it was being scheduled (that event may already have fixed things) or on errors.
   */
  addUnschedulable(q: QueuedPodInfo, opts: { error?: boolean } = {}): void {
    if (this.closed || !this.inFlight.has(q.key)) return;
    this.inFlight.delete(q.key);
    const popCycle = (q as QueuedPodInfo & { cycle?: number }).cycle ?? 0;
    if (opts.error || this.moveRequestCycle >= popCycle) {
      this.pushBackoff(q);
      return;
    }
    q.unschedulableSince = this.now();
    this.unschedulable.set(q.key, q);
  }

  /** A cluster event: unschedulable pods it may help go to backoff or, if their backoff is over, active. */
  moveAllToActiveOrBackoff(event: ClusterEvent): void {
    const interested = this.interests[event];
    for (const [key, q] of [...this.unschedulable]) {
      if (interested && q.unschedulablePlugins.size > 0 && ![...q.unschedulablePlugins].some((p) => interested.includes(p))) continue;
      this.unschedulable.delete(key);
      this.requeue(q);
    }
    this.moveRequestCycle = this.cycle;
  }

  private requeue(q: QueuedPodInfo): void {
    if (this.backoffExpiry(q) > this.now()) this.pushBackoff(q);
    else this.pushActive(q);
  }

  private pushActive(q: QueuedPodInfo): void {
    q.timestamp = q.timestamp || this.now();
    this.active.set(q.key, q);
    this.activeQ.push(q);
    const w = this.waiters.shift();
    if (w) {
      const next = this.popNow();
      if (next) w(next);
      else this.waiters.unshift(w);
    }
  }

  private pushBackoff(q: QueuedPodInfo): void {
    this.backoff.set(q.key, q);
    this.backoffQ.push(q);
    this.armBackoffTimer();
  }

  private armBackoffTimer(): void {
    const head = this.backoffQ.peek();
    if (!head || this.closed) return;
    const at = this.backoffExpiry(head);
    if (this.backoffTimer && this.backoffTimer.at <= at) return;
    this.backoffTimer?.cancel();
    const cancel = this.clock.after(Math.max(0, at - this.now()), () => {
      this.backoffTimer = undefined;
      this.flushBackoff();
    });
    this.backoffTimer = { at, cancel };
  }

  /** Pods whose backoff ended go to the active queue. */
  private flushBackoff(): void {
    const now = this.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head) break;
      if (this.backoff.get(head.key) !== head) {
        this.backoffQ.pop();
        continue;
      }
      if (this.backoffExpiry(head) > now) break;
      this.backoffQ.pop();
      this.backoff.delete(head.key);
      this.pushActive(head);
    }
    this.armBackoffTimer();
  }

  private scheduleUnschedulableFlush(): void {
    if (this.closed) return;
    this.cancelFlush = this.clock.after(Math.min(30_000, this.maxUnschedulableMs), () => {
      const now = this.now();
      for (const [key, q] of [...this.unschedulable]) {
        if (now - q.unschedulableSince < this.maxUnschedulableMs) continue;
        this.unschedulable.delete(key);
        this.requeue(q);
      }
      this.scheduleUnschedulableFlush();
    });
  }

  /** Counts by sub-queue (for tests and metrics). */
  stats(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, inFlight: this.inFlight.size };
  }

  /** Where a pod is: 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined. */
  whereIs(key: string): string | undefined {
    if (this.active.has(key)) return 'active';
    if (this.backoff.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  // Nominated pods (preemptors waiting for their victims to go).

  addNominated(pi: PodInfo, node: string): void {
    this.deleteNominated(pi.key);
    let m = this.nominated.get(node);
    if (!m) this.nominated.set(node, (m = new Map()));
    m.set(pi.key, pi);
    this.nominatedNodeOf.set(pi.key, node);
  }

  deleteNominated(key: string): void {
    const node = this.nominatedNodeOf.get(key);
    if (node === undefined) return;
    this.nominatedNodeOf.delete(key);
    const m = this.nominated.get(node);
    m?.delete(key);
    if (m && m.size === 0) this.nominated.delete(node);
  }

  nominatedPodsFor(node: string): PodInfo[] {
    const m = this.nominated.get(node);
    return m ? [...m.values()] : [];
  }

  private updateNominated(pi: PodInfo): void {
    const node = pi.pod.status?.nominatedNodeName;
    if (node && !pi.pod.spec?.nodeName) this.addNominated(pi, node);
    else if (this.nominatedNodeOf.has(pi.key) && !node) this.deleteNominated(pi.key);
  }

  close(): void {
    this.closed = true;
    this.backoffTimer?.cancel();
    this.cancelFlush?.();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

/**
 * The replica-count loop shared by the ReplicaSet and ReplicationController controllers
 * (Kubernetes runs the same code for both): claim pods, create or delete the difference in
 * slow-start batches, and report status.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ApiObject, ResourceRef } from '../client/interface.js';
import { indexes, keyOf, refs, splitKey, type SharedInformer } from '../client/informer.js';
import type { EventRecorder } from '../client/event-recorder.js';
import type { Clock } from '../machinery/clock.js';
import type { Selector } from '../machinery/labels.js';
import { deepEqual } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';
import { PodControl, claimObjects, controllerRef, isPodActive, isPodAvailable, isPodReady, newControllerRef, podReadySince } from './pod-control.js';

/** At most this many pods are created or deleted in one sync (Kubernetes' BurstReplicas). */
export const burstReplicas = 500;
/** Expectations not met within this time are given up (a watch event was lost). */
const expectationsTimeoutMs = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** Keys of pods whose deletion is awaited (so a pod marked deleting is not counted twice). */
  deleting: Set<string>;
  at: number;
}

/**
 * Kubernetes' UIDTrackingControllerExpectations: what a controller created or deleted and has
 * not yet seen in its informer, so it does not act twice on a stale cache.
 */
export class ControllerExpectations {
  private readonly items = new Map<string, Expectation>();
  constructor(private readonly clock: Clock) {}

  /** True when nothing is awaited (or what was awaited has timed out). */
  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now().getTime() - e.at > expectationsTimeoutMs;
  }

  expectCreations(key: string, n: number): void {
    this.items.set(key, { add: n, del: 0, deleting: new Set(), at: this.clock.now().getTime() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.items.set(key, { add: 0, del: podKeys.length, deleting: new Set(podKeys), at: this.clock.now().getTime() });
  }

  creationObserved(key: string): void {
    const e = this.items.get(key);
    if (e) e.add--;
  }

  /** Lowers the create count for creations that were never attempted or failed. */
  lowerCreations(key: string, n: number): void {
    const e = this.items.get(key);
    if (e) e.add -= n;
  }

  deletionObserved(key: string, podKey: string): void {
    const e = this.items.get(key);
    if (e && e.deleting.delete(podKey)) e.del--;
  }

  delete(key: string): void {
    this.items.delete(key);
  }
}

/** What differs between ReplicaSets and ReplicationControllers. */
export interface ReplicaManagerKind {
  /** Controller name (`replicaset`, `replicationcontroller`). */
  name: string;
  /** Event source component (`replicaset-controller`, `replication-controller`). */
  component: string;
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  /** The pod selector of an owner; a nil/invalid selector selects nothing. */
  selectorOf(owner: ApiObject): Selector;
}

interface ReplicaOwnerSpec {
  replicas?: number;
  minReadySeconds?: number;
  template?: PodTemplateSpec;
}

interface ReplicaCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
}

function specOf(owner: ApiObject): ReplicaOwnerSpec {
  return (owner['spec'] ?? {}) as ReplicaOwnerSpec;
}

function podOf(o: ApiObject): Pod {
  return o as Pod;
}

/** Runs `fn` `count` times in batches of 1, 2, 4 …, stopping after a batch with a failure; returns successes and the first error. */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}

/** Pods on the same node as other pods of the set are deleted first (spreads what stays). */
function relatedOnSameNode(pods: Pod[]): Map<Pod, number> {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  return new Map(pods.map((p) => [p, p.spec?.nodeName ? perNode.get(p.spec.nodeName)! : 0]));
}

function phaseRank(p: Pod): number {
  const phase = p.status?.phase;
  return phase === 'Pending' || phase === undefined ? 0 : phase === 'Unknown' ? 1 : phase === 'Running' ? 2 : 3;
}

function restarts(p: Pod): number {
  return Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

function deletionCost(p: Pod): number {
  const v = Number(p.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

/**
 * Orders pods so the ones to delete come first (Kubernetes' ActivePodsWithRanks): unscheduled
 * before scheduled, pending before running, not ready before ready, lower deletion cost first,
 * more pods on the same node first, ready for less time first, more restarts first, newer first.
 */
export function rankPodsForDeletion(pods: Pod[]): Pod[] {
  const rank = relatedOnSameNode(pods);
  const time = (s: string | undefined): number => (s ? new Date(s).getTime() : 0);
  return [...pods].sort((a, b) => {
    const aAssigned = a.spec?.nodeName ? 1 : 0;
    const bAssigned = b.spec?.nodeName ? 1 : 0;
    if (aAssigned !== bAssigned) return aAssigned - bAssigned;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const aReady = isPodReady(a) ? 1 : 0;
    const bReady = isPodReady(b) ? 1 : 0;
    if (aReady !== bReady) return aReady - bReady;
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank.get(a) !== rank.get(b)) return rank.get(b)! - rank.get(a)!;
    if (aReady && bReady) {
      const ra = podReadySince(a)?.getTime() ?? 0;
      const rb = podReadySince(b)?.getTime() ?? 0;
      if (ra !== rb) return rb - ra;
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    const ca = time(a.metadata?.creationTimestamp);
    const cb = time(b.metadata?.creationTimestamp);
    if (ca !== cb) return cb - ca;
    return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  });
}

/**
 * The ReplicaSet/ReplicationController loop, parameterised by kind. Level-triggered: each sync
 * counts the active pods it controls and creates or deletes the difference.
 */
export class ReplicaManager extends Controller {
  readonly name: string;
  protected readonly owners: SharedInformer;
  protected readonly pods: SharedInformer;
  protected readonly expectations: ControllerExpectations;
  protected readonly podControl: PodControl;
  protected readonly recorder: EventRecorder;

  constructor(
    ctx: ControllerContext,
    protected readonly kindInfo: ReplicaManagerKind,
  ) {
    super(ctx);
    this.name = kindInfo.name;
    this.owners = ctx.informers.for(kindInfo.ref);
    this.pods = ctx.informers.for(refs.pods);
    this.pods.addIndexer('controller-uid', indexes.controllerUid);
    this.pods.addIndexer('orphans', indexes.orphans);
    this.expectations = new ControllerExpectations(ctx.clock);
    this.recorder = ctx.recorder(kindInfo.component);
    this.podControl = new PodControl(ctx.client, this.recorder);
  }

  setup(): void {
    this.owners.addEventHandler({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_old, o) => this.enqueue(o),
      onDelete: (o) => {
        this.expectations.delete(keyOf(o));
        this.enqueue(o);
      },
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.podAdded(podOf(p)),
      onUpdate: (o, n) => this.podUpdated(podOf(o), podOf(n)),
      onDelete: (p) => this.podDeleted(podOf(p)),
    });
  }

  /** The owner a controllerRef points to, if it is of our kind and still the same object. */
  private resolveOwner(namespace: string, ref: ReturnType<typeof controllerRef>): ApiObject | undefined {
    if (!ref || ref.kind !== this.kindInfo.kind) return undefined;
    const owner = this.owners.get(namespace, ref.name);
    return owner && owner.metadata?.uid === ref.uid ? owner : undefined;
  }

  private matchingOwners(pod: Pod): ApiObject[] {
    const labels = pod.metadata?.labels ?? {};
    return this.owners.list(pod.metadata?.namespace ?? '').filter((o) => {
      const sel = this.kindInfo.selectorOf(o);
      return !sel.empty() && sel.matches(labels);
    });
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.podDeleted(pod);
    const ref = controllerRef(pod as ApiObject);
    if (ref) {
      const owner = this.resolveOwner(pod.metadata?.namespace ?? '', ref);
      if (!owner) return;
      this.expectations.creationObserved(keyOf(owner));
      this.enqueue(owner);
      return;
    }
    for (const o of this.matchingOwners(pod)) this.enqueue(o);
  }

  private podUpdated(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    if (cur.metadata?.deletionTimestamp) {
      this.podDeleted(cur);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const ns = cur.metadata?.namespace ?? '';
    const curRef = controllerRef(cur as ApiObject);
    const oldRef = controllerRef(old as ApiObject);
    if (oldRef && (!curRef || oldRef.uid !== curRef.uid)) {
      const o = this.resolveOwner(ns, oldRef);
      if (o) this.enqueue(o);
    }
    if (curRef) {
      const owner = this.resolveOwner(ns, curRef);
      if (!owner) return;
      this.enqueue(owner);
      const minReady = specOf(owner).minReadySeconds ?? 0;
      // Wake up when the pod becomes available, to count it.
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(keyOf(owner), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || oldRef) for (const o of this.matchingOwners(cur)) this.enqueue(o);
  }

  private podDeleted(pod: Pod): void {
    const ref = controllerRef(pod as ApiObject);
    if (!ref) return;
    const owner = this.resolveOwner(pod.metadata?.namespace ?? '', ref);
    if (!owner) return;
    const key = keyOf(owner);
    this.expectations.deletionObserved(key, keyOf(pod as ApiObject));
    this.enqueue(owner);
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const owner = this.owners.get(namespace, name);
    if (!owner) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    const selector = this.kindInfo.selectorOf(owner);
    // Only pods it may own matter: its own and orphans (not every pod of the namespace, which
    // made each sync cost as much as the namespace's pods).
    const candidates = [...this.pods.byIndex('controller-uid', owner.metadata?.uid ?? ''), ...this.pods.byIndex('orphans', namespace)];
    const active = candidates.map(podOf).filter(isPodActive);
    const pods = await claimObjects(active, {
      client: this.ctx.client,
      ref: refs.pods,
      owner,
      ownerApiVersion: this.kindInfo.apiVersion,
      ownerKind: this.kindInfo.kind,
      selector,
      recheckOwner: () => this.ctx.client.get(this.kindInfo.ref, namespace, name).catch(() => undefined),
    });
    let manageError: unknown;
    let diff = 0;
    if (needsSync && !owner.metadata?.deletionTimestamp) {
      diff = pods.length - (specOf(owner).replicas ?? 1);
      try {
        await this.manageReplicas(key, owner, pods, diff);
      } catch (e) {
        manageError = e;
      }
    }
    const fresh = this.owners.get(namespace, name) ?? owner;
    const status = this.calculateStatus(fresh, pods, manageError, diff);
    const updated = await this.updateStatus(fresh, status);
    const minReady = specOf(owner).minReadySeconds ?? 0;
    if (manageError) throw manageError;
    if (updated && minReady > 0 && status.readyReplicas === specOf(owner).replicas && status.availableReplicas !== specOf(owner).replicas) {
      this.queue.addAfter(key, minReady * 1000);
    }
  }

  private async manageReplicas(key: string, owner: ApiObject, pods: Pod[], diff: number): Promise<void> {
    const ns = owner.metadata?.namespace ?? '';
    if (diff < 0) {
      const want = Math.min(-diff, burstReplicas);
      this.expectations.expectCreations(key, want);
      const ref = newControllerRef(owner, this.kindInfo.apiVersion, this.kindInfo.kind);
      const { successes, error } = await slowStartBatch(want, 1, async () => {
        await this.podControl.createPod(ns, specOf(owner).template, owner, ref);
      });
      const skipped = want - successes;
      if (skipped > 0) this.expectations.lowerCreations(key, skipped);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, burstReplicas);
      const victims = rankPodsForDeletion(pods).slice(0, n);
      this.expectations.expectDeletions(key, victims.map((p) => keyOf(p as ApiObject)));
      const results = await Promise.allSettled(
        victims.map(async (p) => {
          try {
            const deleted = await this.podControl.deletePod(ns, p.metadata?.name ?? '', owner);
            if (!deleted) this.expectations.deletionObserved(key, keyOf(p as ApiObject));
          } catch (e) {
            this.expectations.deletionObserved(key, keyOf(p as ApiObject));
            throw e;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  private calculateStatus(owner: ApiObject, pods: Pod[], manageError: unknown, diff: number): ReplicaStatus {
    const templateLabels = specOf(owner).template?.metadata?.labels ?? {};
    const minReady = specOf(owner).minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const p of pods) {
      const labels = p.metadata?.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, now)) available++;
      }
    }
    const old = (owner['status'] ?? {}) as ReplicaStatus;
    let conditions = [...(old.conditions ?? [])];
    const failure = conditions.find((c) => c.type === 'ReplicaFailure');
    if (manageError && !failure) {
      conditions.push({
        type: 'ReplicaFailure',
        status: 'True',
        lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z'),
        reason: diff < 0 ? 'FailedCreate' : 'FailedDelete',
        message: (manageError as Error).message ?? String(manageError),
      });
    } else if (!manageError && failure) {
      conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    }
    const status: ReplicaStatus = {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: (owner.metadata?.['generation'] as number | undefined) ?? 0,
    };
    if (conditions.length) status.conditions = conditions;
    return status;
  }

  /** Writes status when it changed; returns the status written or already there. */
  private async updateStatus(owner: ApiObject, status: ReplicaStatus): Promise<boolean> {
    const old = (owner['status'] ?? {}) as ReplicaStatus;
    const same =
      (old.replicas ?? 0) === status.replicas &&
      (old.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (old.readyReplicas ?? 0) === status.readyReplicas &&
      (old.availableReplicas ?? 0) === status.availableReplicas &&
      (old.observedGeneration ?? 0) === status.observedGeneration &&
      deepEqual(old.conditions ?? [], status.conditions ?? []);
    if (same) return true;
    await this.ctx.client.update(this.kindInfo.ref, owner.metadata?.namespace ?? '', { ...owner, status }, { subresource: 'status' });
    return true;
  }
}

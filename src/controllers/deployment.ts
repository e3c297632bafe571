import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, type ApiObject } from '../client/interface.js';
import { keyOf, refs, splitKey, type SharedInformer } from '../client/informer.js';
import type { EventRecorder } from '../client/event-recorder.js';
import { nothing, selectorFromLabelSelector, type Selector } from '../machinery/labels.js';
import { deepClone, deepEqual } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';
import { asApiObject, claimObjects, controllerRef, newControllerRef } from './pod-control.js';
import * as u from './deployment-util.js';

type RSMaybe = ReplicaSet | undefined;

/** Replaces `target`'s fields with `source`'s (our private copies are updated after each write). */
function assignInPlace<T extends object>(target: T, source: T): T {
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, source);
  return target;
}

/**
 * Kubernetes' DeploymentController: rolls a Deployment's pod template out through ReplicaSets
 * (RollingUpdate within maxSurge/maxUnavailable, or Recreate), scales proportionally, keeps
 * revision annotations and history, honours `paused`, and reports status and the Available and
 * Progressing conditions. `kubectl rollout undo|restart|pause|resume` only edit the Deployment;
 * this loop does the rest.
 */
export class DeploymentController extends Controller {
  readonly name = 'deployment';
  private readonly deployments: SharedInformer;
  private readonly replicaSets: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx);
    this.deployments = ctx.informers.for(refs.deployments);
    this.replicaSets = ctx.informers.for(refs.replicasets);
    this.pods = ctx.informers.for(refs.pods);
    this.recorder = ctx.recorder('deployment-controller');
  }

  setup(): void {
    this.deployments.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_o, d) => this.enqueue(d),
      onDelete: (d) => this.enqueue(d),
    });
    this.replicaSets.addEventHandler({
      onAdd: (rs) => (rs.metadata?.deletionTimestamp ? this.rsDeleted(rs) : this.rsAdded(rs)),
      onUpdate: (o, n) => this.rsUpdated(o, n),
      onDelete: (rs) => this.rsDeleted(rs),
    });
    this.pods.addEventHandler({ onDelete: (p) => this.podDeleted(p) });
  }

  private resolve(namespace: string, ref: ReturnType<typeof controllerRef>): ApiObject | undefined {
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  private matchingDeployments(rs: ApiObject): ApiObject[] {
    const labels = rs.metadata?.labels ?? {};
    return this.deployments.list(rs.metadata?.namespace ?? '').filter((d) => {
      const sel = this.selectorOf(d as Deployment);
      return !sel.empty() && sel.matches(labels);
    });
  }

  private rsAdded(rs: ApiObject): void {
    const ref = controllerRef(rs);
    if (ref) {
      const d = this.resolve(rs.metadata?.namespace ?? '', ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.matchingDeployments(rs)) this.enqueue(d);
  }

  private rsUpdated(old: ApiObject, cur: ApiObject): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const ns = cur.metadata?.namespace ?? '';
    const oldRef = controllerRef(old);
    const curRef = controllerRef(cur);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const d = this.resolve(ns, oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolve(ns, curRef);
      if (d) this.enqueue(d);
      return;
    }
    if (oldRef || !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {})) for (const d of this.matchingDeployments(cur)) this.enqueue(d);
  }

  private rsDeleted(rs: ApiObject): void {
    const d = this.resolve(rs.metadata?.namespace ?? '', controllerRef(rs));
    if (d) this.enqueue(d);
  }

  /** Recreate waits for old pods to be gone, so their deletion wakes the deployment. */
  private podDeleted(pod: ApiObject): void {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.get(pod.metadata?.namespace ?? '', ref.name);
    if (!rs) return;
    const d = this.resolve(rs.metadata?.namespace ?? '', controllerRef(rs));
    if (d && (d as Deployment).spec?.strategy?.type === 'Recreate') this.enqueue(d);
  }

  private selectorOf(d: Deployment): Selector {
    try {
      return selectorFromLabelSelector(d.spec?.selector);
    } catch {
      return nothing();
    }
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deployments.get(namespace, name);
    if (!cached) return;
    const d = deepClone(cached) as Deployment;
    const selector = this.selectorOf(d);
    if (selector.empty()) {
      this.recorder.event(asApiObject(d), 'Warning', 'SelectorRequired', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata?.generation ?? 0 };
        await this.writeStatus(d);
      }
      return;
    }
    const claimed = await claimObjects(this.replicaSets.list(namespace) as ReplicaSet[], {
      client: this.ctx.client,
      ref: refs.replicasets,
      owner: asApiObject(d),
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      selector,
      recheckOwner: () => this.ctx.client.get(refs.deployments, namespace, name).catch(() => undefined),
    });
    // Private copies: the loop updates them as it writes, the informer's stay untouched.
    const rsList = claimed.map((rs) => deepClone(rs));
    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.sync(d, rsList);
    if (await this.isScalingEvent(d, rsList)) return this.sync(d, rsList);
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(d, rsList);
    return this.rolloutRolling(d, rsList);
  }

  // --- writes ----------------------------------------------------------------------------------

  private async updateRS(rs: ReplicaSet): Promise<ReplicaSet> {
    return (await this.ctx.client.update(refs.replicasets, rs.metadata?.namespace ?? '', asApiObject(rs))) as ReplicaSet;
  }

  /**
   * Writes status (and the revision annotation, which Kubernetes' deployment status strategy lets
   * through /status; if this server drops it there, it goes through the main resource).
   */
  private async writeStatus(d: Deployment): Promise<void> {
    const ns = d.metadata?.namespace ?? '';
    let res = (await this.ctx.client.update(refs.deployments, ns, asApiObject(d), { subresource: 'status' })) as Deployment;
    const wantRev = d.metadata?.annotations?.[u.revisionAnnotation];
    if (wantRev !== undefined && res.metadata?.annotations?.[u.revisionAnnotation] !== wantRev) {
      res = (await this.ctx.client.update(refs.deployments, ns, asApiObject({ ...res, metadata: { ...res.metadata, annotations: { ...res.metadata?.annotations, [u.revisionAnnotation]: wantRev } } }))) as Deployment;
    }
    d.metadata = { ...d.metadata, resourceVersion: res.metadata?.resourceVersion, generation: res.metadata?.generation };
  }

  private async scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number, d: Deployment): Promise<boolean> {
    if (u.replicasOf(rs) === newScale) return false;
    return this.scaleReplicaSet(rs, newScale, d, u.replicasOf(rs) < newScale ? 'up' : 'down');
  }

  /** Sets replicas and the desired/max annotations; records ScalingReplicaSet when the size moved. */
  private async scaleReplicaSet(rs: ReplicaSet, newScale: number, d: Deployment, operation: 'up' | 'down'): Promise<boolean> {
    const oldScale = u.replicasOf(rs);
    const sizeNeedsUpdate = oldScale !== newScale;
    const desired = u.desiredReplicas(d);
    const max = desired + u.maxSurge(d);
    if (!sizeNeedsUpdate && !u.replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const copy = deepClone(rs);
    copy.spec = { ...copy.spec!, replicas: newScale };
    u.setReplicasAnnotations(copy, desired, max);
    assignInPlace(rs, await this.updateRS(copy));
    if (sizeNeedsUpdate) this.recorder.event(asApiObject(d), 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${rs.metadata?.name} from ${oldScale} to ${newScale}`);
    return sizeNeedsUpdate;
  }

  // --- replica sets and revisions ----------------------------------------------------------------

  private async getAllReplicaSetsAndSyncRevision(d: Deployment, rsList: ReplicaSet[], create: boolean): Promise<{ newRS: RSMaybe; oldRSs: ReplicaSet[] }> {
    const existing = u.findNewReplicaSet(d, rsList);
    const oldRSs = u.findOldReplicaSets(rsList, existing);
    const newRS = await this.getNewReplicaSet(d, existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  private setDeploymentRevision(d: Deployment, revision: string | undefined): boolean {
    if (revision === undefined) return false;
    const a = (d.metadata!.annotations ??= {});
    if (a[u.revisionAnnotation] === revision) return false;
    a[u.revisionAnnotation] = revision;
    return true;
  }

  private async getNewReplicaSet(d: Deployment, existing: RSMaybe, oldRSs: ReplicaSet[], create: boolean): Promise<RSMaybe> {
    const now = this.ctx.clock.now();
    const newRevision = u.maxRevision(oldRSs) + 1;
    d.status ??= {};
    if (existing) {
      const copy = deepClone(existing);
      const annotationsUpdated = u.setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyChanged) {
        copy.spec = { ...copy.spec!, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
        return assignInPlace(existing, await this.updateRS(copy));
      }
      let needsUpdate = this.setDeploymentRevision(d, copy.metadata?.annotations?.[u.revisionAnnotation]);
      if (u.hasProgressDeadline(d) && !u.getCondition(d.status, 'Progressing')) {
        u.setCondition(d.status, u.newCondition('Progressing', 'True', u.reasons.foundNewRS, `Found new replica set "${copy.metadata?.name}"`, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return existing;
    }
    if (!create) return undefined;

    const template = deepClone(d.spec?.template ?? {});
    const hash = u.computeHash(d.spec?.template, d.status.collisionCount);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [u.podTemplateHashLabel]: hash } };
    const selector = deepClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [u.podTemplateHashLabel]: hash };
    const rsName = `${d.metadata?.name}-${hash}`;
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace: d.metadata?.namespace,
        ownerReferences: [newControllerRef(asApiObject(d), 'apps/v1', 'Deployment')],
        labels: template.metadata.labels,
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const count = u.newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = count;
    u.setNewReplicaSetAnnotations(d, newRS, newRevision, false);
    let createdRS: ReplicaSet;
    let alreadyExists = false;
    try {
      createdRS = (await this.ctx.client.create(refs.replicasets, d.metadata?.namespace ?? '', asApiObject(newRS))) as ReplicaSet;
    } catch (e) {
      if (e instanceof ApiError && e.reason === 'AlreadyExists') {
        const found = (await this.ctx.client.get(refs.replicasets, d.metadata?.namespace ?? '', rsName)) as ReplicaSet;
        const ref = controllerRef(asApiObject(found));
        if (!(ref && ref.uid === d.metadata?.uid && u.equalIgnoreHash(d.spec?.template, found.spec?.template))) {
          // A hash collision: bump collisionCount and try again with a new name.
          d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
          await this.writeStatus(d);
          throw e;
        }
        createdRS = found;
        alreadyExists = true;
      } else {
        const msg = `Failed to create new replica set "${rsName}": ${(e as Error).message}`;
        if (u.hasProgressDeadline(d)) {
          u.setCondition(d.status, u.newCondition('Progressing', 'False', u.reasons.failedRSCreate, msg, now));
          await this.writeStatus(d).catch(() => undefined);
        }
        this.recorder.event(asApiObject(d), 'Warning', u.reasons.failedRSCreate, msg);
        throw e;
      }
    }
    if (!alreadyExists && count > 0) this.recorder.event(asApiObject(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rsName} from 0 to ${count}`);
    let needsUpdate = this.setDeploymentRevision(d, String(newRevision));
    if (!alreadyExists && u.hasProgressDeadline(d)) {
      u.setCondition(d.status, u.newCondition('Progressing', 'True', u.reasons.newRSCreated, `Created new replica set "${rsName}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
    return createdRS;
  }

  /** A replica count change that is not a template change (desired-replicas annotation differs). */
  private async isScalingEvent(d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of u.activeReplicaSets([newRS, ...oldRSs])) {
      const desired = u.desiredReplicasAnnotationOf(rs);
      if (desired !== undefined && desired !== u.desiredReplicas(d)) return true;
    }
    return false;
  }

  // --- sync paths ------------------------------------------------------------------------------

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** Paused deployments and scaling events: scale proportionally, no rollout. */
  private async sync(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!u.hasProgressDeadline(d)) return;
    d.status ??= {};
    const cond = u.getCondition(d.status, 'Progressing');
    if (cond?.reason === u.reasons.timedOut) return;
    const pausedCond = cond?.reason === u.reasons.paused;
    const now = this.ctx.clock.now();
    if (d.spec?.paused && !pausedCond) u.setCondition(d.status, u.newCondition('Progressing', 'Unknown', u.reasons.paused, 'Deployment is paused', now));
    else if (!d.spec?.paused && pausedCond) u.setCondition(d.status, u.newCondition('Progressing', 'Unknown', u.reasons.resumed, 'Deployment is resumed', now));
    else return;
    await this.writeStatus(d);
  }

  /** Proportional scaling across active ReplicaSets (Kubernetes' `scale`). */
  private async scale(d: Deployment, newRS: RSMaybe, oldRSs: ReplicaSet[]): Promise<void> {
    const desired = u.desiredReplicas(d);
    const activeOrLatest = u.findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (u.replicasOf(activeOrLatest) !== desired) await this.scaleReplicaSetAndRecordEvent(activeOrLatest, desired, d);
      return;
    }
    if (newRS && u.replicasOf(newRS) === desired && u.desiredReplicasAnnotationOf(newRS) === desired && (newRS.status?.availableReplicas ?? 0) === desired) {
      for (const old of u.activeReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0, d);
      return;
    }
    if (!u.isRollingUpdate(d)) return;
    const all = u.activeReplicaSets([newRS, ...oldRSs]);
    const allReplicas = u.sumSpecReplicas(all);
    const allowed = desired > 0 ? desired + u.maxSurge(d) : 0;
    const toAdd = allowed - allReplicas;
    if (toAdd > 0) all.sort((a, b) => u.replicasOf(b) - u.replicasOf(a) || -u.byCreation(a, b));
    else if (toAdd < 0) all.sort((a, b) => u.replicasOf(b) - u.replicasOf(a) || u.byCreation(a, b));
    let added = 0;
    const sizes = new Map<ReplicaSet, number>();
    for (const rs of all) {
      let size = u.replicasOf(rs);
      if (toAdd !== 0) {
        const p = this.proportion(rs, d, toAdd, added);
        size += p;
        added += p;
      }
      sizes.set(rs, size);
    }
    const first = all[0];
    if (first && toAdd !== 0) sizes.set(first, Math.max(0, sizes.get(first)! + (toAdd - added)));
    for (const rs of all) {
      const size = sizes.get(rs)!;
      await this.scaleReplicaSet(rs, size, d, toAdd > 0 ? 'up' : 'down');
    }
  }

  private proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
    if (u.replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    const fraction = this.fraction(rs, d);
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  private fraction(rs: ReplicaSet, d: Deployment): number {
    const desired = u.desiredReplicas(d);
    if (desired === 0) return -u.replicasOf(rs);
    const deploymentReplicas = desired + u.maxSurge(d);
    const annotated = u.maxReplicasAnnotationOf(rs) ?? d.status?.replicas ?? 0;
    if (annotated === 0) return 0;
    return Math.round((u.replicasOf(rs) * deploymentReplicas) / annotated) - u.replicasOf(rs);
  }

  /** Deletes old zero-size ReplicaSets beyond revisionHistoryLimit, oldest revision first. */
  private async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => u.revisionOf(a) - u.revisionOf(b) || u.byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || u.replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.ctx.client.delete(refs.replicasets, rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }

  // --- rollouts --------------------------------------------------------------------------------

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const allRSs = [...oldRSs, newRS];
    if (newRS && (await this.reconcileNewReplicaSet(allRSs, newRS, d))) return this.syncRolloutStatus(allRSs, newRS, d);
    if (await this.reconcileOldReplicaSets(allRSs, oldRSs, newRS, d)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (u.deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  private async reconcileNewReplicaSet(allRSs: RSMaybe[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
    const desired = u.desiredReplicas(d);
    if (u.replicasOf(newRS) === desired) return false;
    if (u.replicasOf(newRS) > desired) return this.scaleReplicaSetAndRecordEvent(newRS, desired, d);
    return this.scaleReplicaSetAndRecordEvent(newRS, u.newRSNewReplicas(d, allRSs, newRS), d);
  }

  private async reconcileOldReplicaSets(allRSs: RSMaybe[], oldRSs: ReplicaSet[], newRS: RSMaybe, d: Deployment): Promise<boolean> {
    if (u.sumSpecReplicas(oldRSs) === 0) return false;
    const minAvailable = u.desiredReplicas(d) - u.maxUnavailable(d);
    const newUnavailable = u.replicasOf(newRS) - (newRS?.status?.availableReplicas ?? 0);
    const maxScaledDown = u.sumSpecReplicas(allRSs) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    const cleaned = await this.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown);
    const scaledDown = await this.scaleDownOldForRollingUpdate(allRSs, oldRSs, d);
    return cleaned + scaledDown > 0;
  }

  /** Scales down old replicas that are not available first: they cost no availability. */
  private async cleanupUnhealthyReplicas(oldRSs: ReplicaSet[], d: Deployment, maxCleanup: number): Promise<number> {
    let total = 0;
    for (const rs of [...oldRSs].sort(u.byCreation)) {
      if (total >= maxCleanup) break;
      const replicas = u.replicasOf(rs);
      if (replicas === 0) continue;
      const unhealthy = replicas - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const n = Math.min(maxCleanup - total, unhealthy);
      await this.scaleReplicaSetAndRecordEvent(rs, replicas - n, d);
      total += n;
    }
    return total;
  }

  private async scaleDownOldForRollingUpdate(allRSs: RSMaybe[], oldRSs: ReplicaSet[], d: Deployment): Promise<number> {
    const minAvailable = u.desiredReplicas(d) - u.maxUnavailable(d);
    const available = u.sumStatus(allRSs, 'availableReplicas');
    if (available <= minAvailable) return 0;
    const budget = available - minAvailable;
    let total = 0;
    for (const rs of [...oldRSs].sort(u.byCreation)) {
      if (total >= budget) break;
      const replicas = u.replicasOf(rs);
      if (replicas === 0) continue;
      const n = Math.min(replicas, budget - total);
      await this.scaleReplicaSetAndRecordEvent(rs, replicas - n, d);
      total += n;
    }
    return total;
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    let allRSs: RSMaybe[] = [...oldRSs, newRS];
    let scaledDown = false;
    for (const rs of u.activeReplicaSets(oldRSs)) if (await this.scaleReplicaSetAndRecordEvent(rs, 0, d)) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(allRSs, newRS, d);
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
      allRSs = [...oldRSs, newRS];
    }
    if (newRS) await this.scaleReplicaSetAndRecordEvent(newRS, u.desiredReplicas(d), d);
    if (u.deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  /** Any pod of an old ReplicaSet still running (or being deleted) blocks Recreate's scale-up. */
  private oldPodsRunning(newRS: RSMaybe, oldRSs: ReplicaSet[]): boolean {
    if (u.sumStatus(oldRSs, 'replicas') > 0) return true;
    const oldUIDs = new Set(oldRSs.map((rs) => rs.metadata?.uid).filter((x) => x && x !== newRS?.metadata?.uid));
    for (const o of this.pods.list(oldRSs[0]?.metadata?.namespace ?? newRS?.metadata?.namespace ?? '')) {
      const ref = controllerRef(o);
      if (!ref || !oldUIDs.has(ref.uid)) continue;
      const phase = (o as Pod).status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
    return false;
  }

  // --- status ----------------------------------------------------------------------------------

  private calculateStatus(allRSs: RSMaybe[], newRS: RSMaybe, d: Deployment): DeploymentStatus {
    const available = u.sumStatus(allRSs, 'availableReplicas');
    const total = u.sumSpecReplicas(allRSs);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata?.generation ?? 0,
      replicas: u.sumStatus(u.activeReplicaSets(allRSs), 'replicas'),
      updatedReplicas: u.sumStatus([newRS], 'replicas'),
      readyReplicas: u.sumStatus(allRSs, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    if (d.status?.conditions) status.conditions = deepClone(d.status.conditions);
    const now = this.ctx.clock.now();
    if (available >= u.desiredReplicas(d) - u.maxUnavailable(d)) u.setCondition(status, u.newCondition('Available', 'True', u.reasons.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
    else u.setCondition(status, u.newCondition('Available', 'False', u.reasons.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
    return status;
  }

  private async syncDeploymentStatus(allRSs: RSMaybe[], newRS: RSMaybe, d: Deployment): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS, d);
    if (deepEqual(d.status ?? {}, status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /** Status plus the Progressing condition (complete, progressing, or past its deadline). */
  private async syncRolloutStatus(allRSs: RSMaybe[], newRS: RSMaybe, d: Deployment): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS, d);
    const now = this.ctx.clock.now();
    if (!u.hasProgressDeadline(d)) u.removeCondition(status, 'Progressing');
    const current = u.getCondition(status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && current?.reason === u.reasons.newRSAvailable;
    if (u.hasProgressDeadline(d) && !d.spec?.paused && !complete) {
      const rsName = newRS?.metadata?.name;
      if (u.deploymentComplete(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : 'Deployment has successfully progressed.';
        u.setCondition(status, u.newCondition('Progressing', 'True', u.reasons.newRSAvailable, msg, now));
      } else if (u.deploymentProgressing(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : 'Deployment is progressing.';
        const cond = u.newCondition('Progressing', 'True', u.reasons.rsUpdated, msg, now);
        if (current?.status === 'True' && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
        u.removeCondition(status, 'Progressing');
        u.setCondition(status, cond);
      } else if (u.deploymentTimedOut(d, status, now)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata?.name}" has timed out progressing.`;
        u.setCondition(status, u.newCondition('Progressing', 'False', u.reasons.timedOut, msg, now));
      }
    }
    const failure = newRS?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (failure) u.setCondition(status, u.newCondition('ReplicaFailure', 'True', failure.reason ?? '', failure.message ?? '', now));
    else u.removeCondition(status, 'ReplicaFailure');
    if (deepEqual(d.status ?? {}, status)) {
      this.requeueStuck(d, status);
      return;
    }
    d.status = status;
    await this.writeStatus(d);
  }

  /** Checks again when the progress deadline would pass, so ProgressDeadlineExceeded is set on time. */
  private requeueStuck(d: Deployment, status: DeploymentStatus): void {
    const cond = u.getCondition(d.status, 'Progressing');
    if (!u.hasProgressDeadline(d) || !cond) return;
    if (u.deploymentComplete(d, status) || cond.reason === u.reasons.timedOut) return;
    const from = cond.lastUpdateTime ? new Date(cond.lastUpdateTime).getTime() : 0;
    const after = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - this.ctx.clock.now().getTime();
    const key = keyOf(asApiObject(d));
    if (after < 1000) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, after + 1000);
  }
}

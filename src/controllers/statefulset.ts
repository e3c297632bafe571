import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { indexes, refs } from '../client/informer.js';
import { ApiError, isNotFound, type ApiObject } from '../client/interface.js';
import { selectorFromLabelSelector, type Selector } from '../machinery/labels.js';
import { deepClone } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';
import { controllerRevisionHashLabel, syncRevisions, templateOfRevision, truncateHistory } from './controller-revision.js';
import { asApiObject, claimObjects, controllerRef, isPodAvailable, isPodReady, newControllerRef } from './pod-control.js';

export const statefulSetPodNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

/** `web-3` → 3 for the set `web`; undefined for names that are not one of its ordinals. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** `<claim template>-<set>-<ordinal>`, the PVC a StatefulSet pod mounts for a volumeClaimTemplate. */
export function claimName(template: string, setName: string, ordinal: number): string {
  return `${template}-${setName}-${ordinal}`;
}

function phaseOf(pod: Pod): string {
  return pod.status?.phase ?? '';
}

function isTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

function isRunningAndReady(pod: Pod): boolean {
  return phaseOf(pod) === 'Running' && isPodReady(pod);
}

/**
 * The StatefulSet controller: pods with stable names `<set>-<ordinal>`, hostnames under the
 * governing Service, and their own PVCs from volumeClaimTemplates (created before the pod). With
 * OrderedReady (the default) pods are created one at a time in ordinal order, each only once the
 * one before is Running and Ready, and removed one at a time from the highest ordinal; Parallel
 * does both at once. RollingUpdate replaces pods with ordinal ≥ partition, highest first, one at a
 * time, each once the one replaced before is healthy again; OnDelete waits for users to delete.
 */
export class StatefulSetController extends Controller {
  readonly name = 'statefulset';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const sets = this.ctx.informers.for(refs.statefulsets);
    sets.addEventHandler({ onAdd: (s) => this.enqueue(s), onUpdate: (_o, s) => this.enqueue(s) });
    const pods = this.ctx.informers.for(refs.pods);
    pods.addIndexer('controller-uid', indexes.controllerUid);
    const owner = (p: ApiObject): void => {
      const ref = controllerRef(p);
      if (ref) {
        if (ref.kind === 'StatefulSet' && p.metadata?.namespace) this.queue.add(`${p.metadata.namespace}/${ref.name}`);
        return;
      }
      // An orphan may be adopted by a set whose selector matches it.
      for (const s of sets.list(p.metadata?.namespace ?? '')) {
        if (ordinalOf(s.metadata?.name ?? '', p.metadata?.name ?? '') !== undefined) this.enqueue(s);
      }
    };
    pods.addEventHandler({ onAdd: owner, onUpdate: (_o, p) => owner(p), onDelete: owner });
    const revisions = this.ctx.informers.for(refs.controllerrevisions);
    revisions.addIndexer('controller-uid', indexes.controllerUid);
    // A cache of claims, so existing PVCs are not fetched on every sync.
    this.ctx.informers.for(refs.persistentvolumeclaims);
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.ctx.informers.for(refs.statefulsets).getByKey(key);
    if (!cached || cached.metadata?.deletionTimestamp) return;
    const set = cached as unknown as StatefulSet;
    const ns = set.metadata?.namespace ?? '';
    const name = set.metadata?.name ?? '';
    const spec = set.spec;
    const recorder = this.ctx.recorder('statefulset-controller');
    const selector = selectorFromLabelSelector(spec?.selector);
    if (!spec || selector.empty() || selector.matchesNothing()) {
      recorder.event(cached, 'Warning', 'SelectorParseError', 'StatefulSet has an empty or invalid selector');
      return;
    }

    const owned = this.ctx.informers.for(refs.controllerrevisions).byIndex('controller-uid', set.metadata?.uid ?? '') as unknown as ControllerRevision[];
    const revs = await syncRevisions(this.ctx.client, { owner: cached, apiVersion: 'apps/v1', kind: 'StatefulSet', template: spec.template, collisionCount: set.status?.collisionCount ?? 0, currentRevisionName: set.status?.currentRevision }, owned);
    const currentHash = revs.current.metadata?.labels?.[controllerRevisionHashLabel] ?? '';
    const updateHash = revs.update.metadata?.labels?.[controllerRevisionHashLabel] ?? '';
    const pods = await this.claimPods(cached, selector);

    const start = spec.ordinals?.start ?? 0;
    const replicaCount = spec.replicas ?? 1;
    const monotonic = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const minReady = spec.minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    const healthy = (p: Pod): boolean => isRunningAndReady(p) && !isTerminating(p) && isPodAvailable(p, minReady, now);
    const replicas: Array<Pod | undefined> = new Array<Pod | undefined>(replicaCount).fill(undefined);
    const condemned: Pod[] = [];
    for (const p of pods) {
      const ord = ordinalOf(name, p.metadata?.name ?? '') ?? -1;
      if (ord >= start && ord < start + replicaCount) replicas[ord - start] = p;
      else condemned.push(p);
    }
    condemned.sort((a, b) => (ordinalOf(name, b.metadata?.name ?? '') ?? -1) - (ordinalOf(name, a.metadata?.name ?? '') ?? -1));

    const strategy = spec.updateStrategy?.type ?? 'RollingUpdate';
    const partition = strategy === 'RollingUpdate' ? Math.max(0, spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const templateFor = (ordinal: number): { template: PodTemplateSpec; hash: string } =>
      strategy === 'RollingUpdate' && ordinal < start + partition ? { template: templateOfRevision(revs.current), hash: currentHash } : { template: templateOfRevision(revs.update), hash: updateHash };

    const all = [...replicas.filter((p): p is Pod => !!p), ...condemned];
    const firstUnhealthy = [...replicas, ...[...condemned].reverse()].find((p): p is Pod => !!p && !healthy(p));
    let wait = false;

    // Scale up and repair, in ordinal order.
    for (let i = 0; i < replicaCount && !wait; i++) {
      const ordinal = start + i;
      let pod = replicas[i];
      if (pod && !isTerminating(pod) && (phaseOf(pod) === 'Failed' || phaseOf(pod) === 'Succeeded')) {
        // A finished pod is replaced by a fresh one of the same identity.
        await this.deletePod(cached, pod, recorder);
        if (monotonic) wait = true;
        continue;
      }
      if (!pod) {
        const { template, hash } = templateFor(ordinal);
        pod = await this.createPod(set, cached, ordinal, template, hash, recorder);
        if (monotonic) wait = true;
        continue;
      }
      if (isTerminating(pod)) {
        if (monotonic) wait = true;
        continue;
      }
      // A pod that lost its claims (deleted PVCs) gets them back while it is pending.
      if (!pod.spec?.nodeName) await this.createClaims(set, cached, ordinal, recorder);
      if (!healthy(pod) && monotonic) wait = true;
    }

    // Scale down, highest ordinal first.
    if (!wait) {
      for (const pod of condemned) {
        if (isTerminating(pod)) {
          if (monotonic) break;
          continue;
        }
        if (monotonic && !isRunningAndReady(pod) && pod !== firstUnhealthy) break;
        await this.retainClaimsOnScaleDown(set, pod);
        await this.deletePod(cached, pod, recorder);
        if (monotonic) break;
      }
    }

    // Rolling update: highest ordinal first, one at a time, down to the partition.
    if (!wait && strategy === 'RollingUpdate') {
      for (let i = replicaCount - 1; i >= partition; i--) {
        const pod = replicas[i];
        if (!pod) break;
        if (pod.metadata?.labels?.[controllerRevisionHashLabel] !== updateHash && !isTerminating(pod)) {
          await this.deletePod(cached, pod, recorder);
          break;
        }
        if (!healthy(pod)) break;
      }
    }

    // A pod that is ready but not yet available must be looked at again when it becomes so.
    if (minReady > 0 && all.some((p) => isRunningAndReady(p) && !isPodAvailable(p, minReady, now))) this.queue.addAfter(key, minReady * 1000 + 100);

    const status = this.computeStatus(set, all, currentHash, updateHash, revs.current.metadata?.name ?? '', revs.update.metadata?.name ?? '', revs.collisionCount, minReady, now, strategy);
    await this.writeStatus(cached, status);

    const keep = new Set<string>([revs.current.metadata?.name ?? '', revs.update.metadata?.name ?? '']);
    for (const p of all) {
      const h = p.metadata?.labels?.[controllerRevisionHashLabel];
      if (h) keep.add(h);
    }
    await truncateHistory(this.ctx.client, revs.revisions, keep, spec.revisionHistoryLimit ?? 10);
  }

  private async claimPods(owner: ApiObject, selector: Selector): Promise<Pod[]> {
    const name = owner.metadata?.name ?? '';
    const uid = owner.metadata?.uid ?? '';
    const podsInformer = this.ctx.informers.for(refs.pods);
    const mine = podsInformer.byIndex('controller-uid', uid);
    // Orphans named like the set's pods are adoption candidates (isMemberOf in Kubernetes).
    const orphans = podsInformer.list(owner.metadata?.namespace ?? '').filter((p) => !controllerRef(p) && ordinalOf(name, p.metadata?.name ?? '') !== undefined);
    const claimed = await claimObjects([...mine, ...orphans], {
      client: this.ctx.client,
      ref: refs.pods,
      owner,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'StatefulSet',
      selector,
      recheckOwner: async () => this.ctx.client.get(refs.statefulsets, owner.metadata?.namespace ?? '', name).catch(() => undefined),
    });
    return (claimed as unknown as Pod[]).filter((p) => ordinalOf(name, p.metadata?.name ?? '') !== undefined);
  }

  /** The PVCs of one ordinal, as the volumeClaimTemplates describe them. */
  private claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
    const name = set.metadata?.name ?? '';
    const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
    return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
      const labels = { ...(t.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) };
      const claim: PersistentVolumeClaim = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { labels, name: claimName(t.metadata?.name ?? '', name, ordinal), namespace: set.metadata?.namespace },
        spec: deepClone(t.spec ?? {}),
      };
      if (t.metadata?.annotations) claim.metadata!.annotations = { ...t.metadata.annotations };
      if (whenDeleted === 'Delete') claim.metadata!.ownerReferences = [{ ...newControllerRef(asApiObject(set), 'apps/v1', 'StatefulSet'), controller: false }];
      return claim;
    });
  }

  private async createClaims(set: StatefulSet, owner: ApiObject, ordinal: number, recorder: ReturnType<ControllerContext['recorder']>): Promise<void> {
    const cache = this.ctx.informers.for(refs.persistentvolumeclaims);
    const podName = `${set.metadata?.name}-${ordinal}`;
    for (const claim of this.claimsFor(set, ordinal)) {
      const cname = claim.metadata?.name ?? '';
      if (cache.get(set.metadata?.namespace ?? '', cname)) continue;
      try {
        await this.ctx.client.create(refs.persistentvolumeclaims, set.metadata?.namespace ?? '', asApiObject(claim));
        recorder.event(owner, 'Normal', 'SuccessfulCreate', `create Claim ${cname} Pod ${podName} in StatefulSet ${set.metadata?.name} success`);
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'AlreadyExists') continue;
        recorder.event(owner, 'Warning', 'FailedCreate', `create Claim ${cname} for Pod ${podName} in StatefulSet ${set.metadata?.name} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
  }

  private async createPod(set: StatefulSet, owner: ApiObject, ordinal: number, template: PodTemplateSpec, hash: string, recorder: ReturnType<ControllerContext['recorder']>): Promise<Pod | undefined> {
    const setName = set.metadata?.name ?? '';
    const podName = `${setName}-${ordinal}`;
    await this.createClaims(set, owner, ordinal, recorder);
    const t = deepClone(template);
    const spec = t.spec ?? { containers: [] };
    // Claims replace template volumes of the same name.
    const claimVolumes: Volume[] = (set.spec?.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(c.metadata?.name ?? '', setName, ordinal) } }));
    if (claimVolumes.length) spec.volumes = [...(spec.volumes ?? []).filter((v) => !claimVolumes.some((c) => c.name === v.name)), ...claimVolumes];
    spec.hostname = podName;
    if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: set.metadata?.namespace,
        labels: { ...(t.metadata?.labels ?? {}), [statefulSetPodNameLabel]: podName, [podIndexLabel]: String(ordinal), [controllerRevisionHashLabel]: hash },
        ownerReferences: [newControllerRef(owner, 'apps/v1', 'StatefulSet')],
      },
      spec,
    };
    if (t.metadata?.annotations) pod.metadata!.annotations = t.metadata.annotations;
    if (t.metadata?.finalizers) pod.metadata!.finalizers = t.metadata.finalizers;
    try {
      const created = (await this.ctx.client.create(refs.pods, set.metadata?.namespace ?? '', asApiObject(pod))) as Pod;
      recorder.event(owner, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${setName} successful`);
      return created;
    } catch (e) {
      // The cache had not seen it yet: the next sync will.
      if (e instanceof ApiError && e.reason === 'AlreadyExists') return undefined;
      recorder.event(owner, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${setName} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  private async deletePod(owner: ApiObject, pod: Pod, recorder: ReturnType<ControllerContext['recorder']>): Promise<void> {
    const podName = pod.metadata?.name ?? '';
    try {
      // The uid precondition keeps a stale cache from deleting a pod's successor of the same name.
      await this.ctx.client.delete(refs.pods, pod.metadata?.namespace ?? '', podName, { preconditions: { uid: pod.metadata?.uid } });
      recorder.event(owner, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${owner.metadata?.name} successful`);
    } catch (e) {
      if (isNotFound(e) || (e instanceof ApiError && e.code === 409)) return;
      recorder.event(owner, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${owner.metadata?.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  /** whenScaled: Delete — the claims of a condemned pod become owned by it, so they go with it. */
  private async retainClaimsOnScaleDown(set: StatefulSet, pod: Pod): Promise<void> {
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    const ordinal = ordinalOf(set.metadata?.name ?? '', pod.metadata?.name ?? '');
    if (ordinal === undefined) return;
    const podRef: OwnerReference = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', blockOwnerDeletion: true, controller: false };
    for (const c of this.claimsFor(set, ordinal)) {
      const existing = this.ctx.informers.for(refs.persistentvolumeclaims).get(set.metadata?.namespace ?? '', c.metadata?.name ?? '');
      if (!existing) continue;
      const owners = (existing.metadata?.['ownerReferences'] as OwnerReference[] | undefined) ?? [];
      if (owners.some((o) => o.uid === podRef.uid)) continue;
      try {
        await this.ctx.client.update(refs.persistentvolumeclaims, set.metadata?.namespace ?? '', { ...existing, metadata: { ...existing.metadata, ownerReferences: [...owners, podRef] } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private computeStatus(set: StatefulSet, pods: Pod[], currentHash: string, updateHash: string, currentName: string, updateName: string, collisionCount: number, minReady: number, now: Date, strategy: string): StatefulSetStatus {
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata?.generation,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: currentName,
      updateRevision: updateName,
      collisionCount,
    };
    for (const p of pods) {
      status.replicas++;
      if (isRunningAndReady(p)) {
        status.readyReplicas = (status.readyReplicas ?? 0) + 1;
        if (isPodAvailable(p, minReady, now)) status.availableReplicas = (status.availableReplicas ?? 0) + 1;
      }
      if (isTerminating(p)) continue;
      const h = p.metadata?.labels?.[controllerRevisionHashLabel];
      if (h === currentHash) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
      if (h === updateHash) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
    }
    // A finished rollout: the update revision becomes the current one.
    if (strategy === 'RollingUpdate' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = updateName;
    }
    if (strategy === 'OnDelete' && status.updatedReplicas === status.replicas && status.replicas === (set.spec?.replicas ?? 1)) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = updateName;
    }
    return status;
  }

  private async writeStatus(cached: ApiObject, status: StatefulSetStatus): Promise<void> {
    const old = (cached['status'] ?? {}) as StatefulSetStatus & { conditions?: unknown };
    const merged = { ...status, ...(old.conditions ? { conditions: old.conditions } : {}) };
    if (JSON.stringify(normalize(merged)) === JSON.stringify(normalize(old))) return;
    try {
      const fresh = await this.ctx.client.get(refs.statefulsets, cached.metadata?.namespace ?? '', cached.metadata?.name ?? '');
      await this.ctx.client.update(refs.statefulsets, cached.metadata?.namespace ?? '', { ...fresh, status: merged }, { subresource: 'status' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** Status with zero counts dropped and keys sorted, so equal statuses compare equal. */
function normalize(s: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s).sort(([a], [b]) => a.localeCompare(b))) if (v !== undefined && v !== 0 && v !== '') out[k] = v;
  return out;
}

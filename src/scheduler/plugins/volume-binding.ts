import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Client } from '../../client/interface.js';
import { refs, type SharedInformer } from '../../client/informer.js';
import type { Clock } from '../../machinery/clock.js';
import { Quantity } from '../../machinery/quantity.js';
import { Status, type CycleState, type FilterPlugin, type NodeInfo, type PreBindPlugin, type PreFilterPlugin, type ReservePlugin } from '../framework.js';
import { nodeSelectorMatches, nodeSelectorTermMatches } from '../../machinery/node-selector.js';

export const errReasonVolumeNodeConflict = 'node(s) had volume node affinity conflict';
export const errReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
export const errReasonUnboundImmediate = 'pod has unbound immediate PersistentVolumeClaims';
export const errReasonPVNotExist = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
/** Set on a WaitForFirstConsumer claim so its provisioner creates the volume where the pod goes. */
export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';

const zoneLabels = ['topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region'];

interface PodVolumes {
  bound: Array<{ claim: PersistentVolumeClaim; pv: PersistentVolume | undefined }>;
  delayed: PersistentVolumeClaim[];
}

/** Per node: PVs to bind to delayed claims, and claims to provision. */
interface NodeDecision {
  bindings: Array<{ claim: PersistentVolumeClaim; pv: PersistentVolume }>;
  provision: PersistentVolumeClaim[];
}

function storageOf(claim: PersistentVolumeClaim): bigint {
  const q = claim.spec?.resources?.requests?.['storage'];
  return q === undefined ? 0n : (Quantity.tryParse(q)?.value() ?? 0n);
}

function classOf(o: { spec?: { storageClassName?: string } }): string {
  return o.spec?.storageClassName ?? '';
}

/** A PV's node affinity and legacy zone labels hold for `node`. */
export function pvFitsNode(pv: PersistentVolume, node: Node): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  if (required && !nodeSelectorMatches(required, node)) return false;
  const pvLabels = pv.metadata?.labels ?? {};
  const nodeLabels = node.metadata?.labels ?? {};
  for (const k of zoneLabels) {
    const v = pvLabels[k];
    if (v === undefined) continue;
    if (!v.split('__').includes(nodeLabels[k] ?? '\u0000')) return false;
  }
  return true;
}

/**
 * VolumeBinding: claims must exist; bound claims' volumes must be reachable from the node;
 * WaitForFirstConsumer claims need a fitting available volume or a provisioner allowed there.
 * Before binding the pod it claims the chosen volumes, or marks claims with the selected node
 * for their provisioner, and waits for the claims to be bound.
 */
export class VolumeBindingPlugin implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin {
  readonly name = 'VolumeBinding';
  private readonly pvcs: SharedInformer;
  private readonly pvs: SharedInformer;
  private readonly classes: SharedInformer;
  /** PVs promised to pods being bound (not yet visible as claimed). */
  private readonly assumedPVs = new Map<string, string>();

  constructor(
    informers: { for(ref: typeof refs.pods): SharedInformer },
    private readonly client: Client,
    private readonly clock: Clock,
    private readonly bindTimeoutMs = 600_000,
  ) {
    this.pvcs = informers.for(refs.persistentvolumeclaims);
    this.pvs = informers.for(refs.persistentvolumes);
    this.classes = informers.for(refs.storageclasses);
  }

  preFilter(state: CycleState, pod: Pod): Status {
    const ns = pod.metadata?.namespace ?? '';
    const vols: PodVolumes = { bound: [], delayed: [] };
    let any = false;
    for (const v of pod.spec?.volumes ?? []) {
      let claimName: string | undefined = v.persistentVolumeClaim?.claimName;
      if (!claimName && v.ephemeral) claimName = `${pod.metadata?.name ?? ''}-${v.name}`;
      if (!claimName) continue;
      any = true;
      const claim = this.pvcs.get(ns, claimName) as PersistentVolumeClaim | undefined;
      if (!claim) return Status.unresolvable(`persistentvolumeclaim "${claimName}" not found`);
      if (claim.metadata?.deletionTimestamp) return Status.unresolvable(`persistentvolumeclaim "${claimName}" is being deleted`);
      const volumeName = claim.spec?.volumeName;
      if (volumeName) {
        vols.bound.push({ claim, pv: this.pvs.get('', volumeName) as PersistentVolume | undefined });
        continue;
      }
      const sc = this.classes.get('', classOf(claim)) as StorageClass | undefined;
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer') vols.delayed.push(claim);
      else return Status.unresolvable(errReasonUnboundImmediate);
    }
    if (!any) {
      state.skipFilter.add(this.name);
      return Status.skip();
    }
    state.write(this.name, vols);
    state.write(`${this.name}/decisions`, new Map<string, NodeDecision>());
    return Status.success();
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const vols = state.read<PodVolumes>(this.name);
    const node = nodeInfo.node;
    if (!vols || !node) return Status.success();
    for (const b of vols.bound) {
      if (!b.pv) return Status.unresolvable(errReasonPVNotExist);
      if (!pvFitsNode(b.pv, node)) return Status.unresolvable(errReasonVolumeNodeConflict);
    }
    if (vols.delayed.length === 0) return Status.success();
    const decision: NodeDecision = { bindings: [], provision: [] };
    const taken = new Set<string>();
    for (const claim of vols.delayed) {
      const pv = this.findVolume(claim, node, taken);
      if (pv) {
        taken.add(pv.metadata?.name ?? '');
        decision.bindings.push({ claim, pv });
        continue;
      }
      const sc = this.classes.get('', classOf(claim)) as StorageClass | undefined;
      const canProvision =
        !!sc && sc.provisioner !== 'kubernetes.io/no-provisioner' && (!sc.allowedTopologies || sc.allowedTopologies.length === 0 || sc.allowedTopologies.some((t) => nodeSelectorTermMatches({ matchExpressions: (t.matchLabelExpressions ?? []).map((e) => ({ key: e.key, operator: 'In', values: e.values })) }, node)));
      if (!canProvision) return Status.unresolvable(errReasonBindConflict);
      decision.provision.push(claim);
    }
    state.read<Map<string, NodeDecision>>(`${this.name}/decisions`)?.set(nodeInfo.name, decision);
    return Status.success();
  }

  /** The smallest available PV of the claim's class, size, access and volume mode that the node reaches. */
  private findVolume(claim: PersistentVolumeClaim, node: Node, taken: Set<string>): PersistentVolume | undefined {
    const want = storageOf(claim);
    const cls = classOf(claim);
    const modes = claim.spec?.accessModes ?? [];
    const volumeMode = claim.spec?.volumeMode ?? 'Filesystem';
    let best: PersistentVolume | undefined;
    let bestSize = 0n;
    for (const o of this.pvs.list()) {
      const pv = o as PersistentVolume;
      const name = pv.metadata?.name ?? '';
      if (taken.has(name) || pv.metadata?.deletionTimestamp) continue;
      const ref = pv.spec?.claimRef;
      const mine = ref && ref.name === claim.metadata?.name && ref.namespace === claim.metadata?.namespace;
      if (ref && !mine) continue;
      const assumedFor = this.assumedPVs.get(name);
      if (assumedFor && assumedFor !== `${claim.metadata?.namespace}/${claim.metadata?.name}`) continue;
      if (!mine && pv.status?.phase && pv.status.phase !== 'Available') continue;
      if (classOf(pv) !== cls || (pv.spec?.volumeMode ?? 'Filesystem') !== volumeMode) continue;
      const pvModes = pv.spec?.accessModes ?? [];
      if (!modes.every((m) => pvModes.includes(m))) continue;
      const capQ = pv.spec?.capacity?.['storage'];
      const size = capQ === undefined ? 0n : (Quantity.tryParse(capQ)?.value() ?? 0n);
      if (size < want || !pvFitsNode(pv, node)) continue;
      if (mine) return pv;
      if (!best || size < bestSize) {
        best = pv;
        bestSize = size;
      }
    }
    return best;
  }

  reserve(state: CycleState, pod: Pod, nodeName: string): Status {
    const d = state.read<Map<string, NodeDecision>>(`${this.name}/decisions`)?.get(nodeName);
    if (!d) return Status.success();
    for (const b of d.bindings) this.assumedPVs.set(b.pv.metadata?.name ?? '', `${pod.metadata?.namespace}/${b.claim.metadata?.name}`);
    state.write(`${this.name}/chosen`, d);
    return Status.success();
  }

  unreserve(state: CycleState): void {
    const d = state.read<NodeDecision>(`${this.name}/chosen`);
    for (const b of d?.bindings ?? []) this.assumedPVs.delete(b.pv.metadata?.name ?? '');
  }

  async preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    const vols = state.read<PodVolumes>(this.name);
    const d = state.read<NodeDecision>(`${this.name}/chosen`);
    if (!vols || vols.delayed.length === 0 || !d) return Status.success();
    try {
      for (const b of d.bindings) {
        const pv = (await this.client.get(refs.persistentvolumes, '', b.pv.metadata?.name ?? '')) as PersistentVolume;
        if (!pv.spec?.claimRef) {
          const c = b.claim.metadata;
          pv.spec = { ...pv.spec, claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: c?.namespace ?? '', name: c?.name ?? '', uid: c?.uid ?? '', resourceVersion: c?.resourceVersion ?? '' } };
          await this.client.update(refs.persistentvolumes, '', pv as Parameters<Client['update']>[2]);
        }
      }
      for (const claim of d.provision) {
        const fresh = (await this.client.get(refs.persistentvolumeclaims, claim.metadata?.namespace ?? '', claim.metadata?.name ?? '')) as PersistentVolumeClaim;
        if (fresh.spec?.volumeName || fresh.metadata?.annotations?.[selectedNodeAnnotation] === nodeName) continue;
        fresh.metadata = { ...fresh.metadata, annotations: { ...fresh.metadata?.annotations, [selectedNodeAnnotation]: nodeName } };
        await this.client.update(refs.persistentvolumeclaims, fresh.metadata.namespace ?? '', fresh as Parameters<Client['update']>[2]);
      }
      await this.waitBound(vols.delayed);
      return Status.success();
    } catch (e) {
      return Status.fromError(e);
    } finally {
      for (const b of d.bindings) this.assumedPVs.delete(b.pv.metadata?.name ?? '');
    }
  }

  /** The PV controller (or provisioner) finishes binding; the pod waits for it as Kubernetes' does. */
  private async waitBound(claims: PersistentVolumeClaim[]): Promise<void> {
    const deadline = this.clock.now().getTime() + this.bindTimeoutMs;
    for (;;) {
      const pending = claims.filter((c) => {
        const cur = this.pvcs.get(c.metadata?.namespace ?? '', c.metadata?.name ?? '') as PersistentVolumeClaim | undefined;
        if (!cur) throw new Error(`persistentvolumeclaim "${c.metadata?.name}" was deleted`);
        return !cur.spec?.volumeName || cur.status?.phase !== 'Bound';
      });
      if (pending.length === 0) return;
      if (this.clock.now().getTime() >= deadline) throw new Error(`binding volumes: timed out waiting for the condition`);
      await this.clock.sleep(100);
    }
  }
}

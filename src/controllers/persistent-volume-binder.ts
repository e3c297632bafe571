import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { refs } from '../client/informer.js';
import { isConflict, isNotFound, type ApiObject } from '../client/interface.js';
import { selectorFromLabelSelector } from '../machinery/labels.js';
import { Quantity } from '../machinery/quantity.js';
import { Controller, type ControllerContext } from './controller.js';
import { asApiObject } from './pod-control.js';

export const annBindCompleted = 'pv.kubernetes.io/bind-completed';
export const annBoundByController = 'pv.kubernetes.io/bound-by-controller';
export const annSelectedNode = 'volume.kubernetes.io/selected-node';
export const annStorageProvisioner = 'volume.kubernetes.io/storage-provisioner';
export const annBetaStorageProvisioner = 'volume.beta.kubernetes.io/storage-provisioner';
export const annProvisionedBy = 'pv.kubernetes.io/provisioned-by';

function storageOf(list: Record<string, string> | undefined): Quantity {
  return Quantity.tryParse(list?.['storage'] ?? '0') ?? Quantity.parse(0);
}

/** Whether `pv` can serve `pvc`: class, access modes, size, volume mode and selector (not phase or claimRef). */
export function volumeFits(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const spec = pv.spec ?? {};
  const want = pvc.spec ?? {};
  if ((spec.storageClassName ?? '') !== (want.storageClassName ?? '')) return false;
  if ((spec.volumeMode ?? 'Filesystem') !== (want.volumeMode ?? 'Filesystem')) return false;
  const modes = spec.accessModes ?? [];
  if (!(want.accessModes ?? []).every((m) => modes.includes(m))) return false;
  if (storageOf(spec.capacity).cmp(storageOf(want.resources?.requests)) < 0) return false;
  if (want.selector) {
    try {
      if (!selectorFromLabelSelector(want.selector).matches(pv.metadata?.labels ?? {})) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Whether a volume's required node affinity admits a node with these labels. */
export function nodeAffinityAllows(pv: PersistentVolume, nodeLabels: Record<string, string>): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms?.length) return true;
  return terms.some((t) =>
    (t.matchExpressions ?? []).every((e) => {
      const v = nodeLabels[e.key];
      switch (e.operator) {
        case 'In':
          return v !== undefined && (e.values ?? []).includes(v);
        case 'NotIn':
          return v === undefined || !(e.values ?? []).includes(v);
        case 'Exists':
          return v !== undefined;
        case 'DoesNotExist':
          return v === undefined;
        default:
          return false;
      }
    }),
  );
}

/**
 * Kubernetes' PersistentVolume controller: binds Pending claims to the smallest fitting Available
 * volume (claimRef on the volume, volumeName on the claim), hands claims that nothing fits to
 * their class's provisioner (at once for Immediate classes, once the scheduler picked a node for
 * WaitForFirstConsumer ones), keeps phases (Available, Bound, Released, Pending, Lost), and
 * reclaims volumes whose claim is gone (Delete removes them, Retain leaves them Released).
 * Queue keys are `pvc:namespace/name` and `pv:name`.
 */
export class PersistentVolumeBinder extends Controller {
  readonly name = 'persistent-volume-binder';
  private readonly pvs = this.ctx.informers.for(refs.persistentvolumes);
  private readonly pvcs = this.ctx.informers.for(refs.persistentvolumeclaims);
  private readonly classes = this.ctx.informers.for(refs.storageclasses);
  private readonly nodes = this.ctx.informers.for(refs.nodes);
  private readonly recorder = this.ctx.recorder('persistentvolume-controller');

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const claim = (o: ApiObject): void => this.queue.add(`pvc:${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`);
    const volume = (o: ApiObject): void => {
      this.queue.add(`pv:${o.metadata?.name ?? ''}`);
      const ref = (o as PersistentVolume).spec?.claimRef;
      if (ref?.name) this.queue.add(`pvc:${ref.namespace ?? ''}/${ref.name}`);
    };
    this.pvcs.addEventHandler({
      onAdd: claim,
      onUpdate: (_, o) => claim(o),
      onDelete: (o) => {
        const vol = (o as PersistentVolumeClaim).spec?.volumeName;
        if (vol) this.queue.add(`pv:${vol}`);
        for (const pv of this.pvs.list()) if ((pv as PersistentVolume).spec?.claimRef?.uid === o.metadata?.uid) this.queue.add(`pv:${pv.metadata?.name ?? ''}`);
      },
    });
    this.pvs.addEventHandler({
      onAdd: (o) => {
        volume(o);
        // A new volume may fit a waiting claim.
        for (const c of this.pvcs.list()) if (!(c as PersistentVolumeClaim).spec?.volumeName) claim(c);
      },
      onUpdate: (_, o) => volume(o),
      onDelete: volume,
    });
    this.classes.addEventHandler({ onAdd: () => this.pvcs.list().forEach((c) => !(c as PersistentVolumeClaim).spec?.volumeName && claim(c)) });
  }

  async reconcile(key: string): Promise<void> {
    try {
      if (key.startsWith('pvc:')) {
        const rest = key.slice(4);
        const i = rest.indexOf('/');
        const obj = this.pvcs.get(rest.slice(0, i), rest.slice(i + 1));
        if (obj && !obj.metadata?.deletionTimestamp) await this.syncClaim(obj as PersistentVolumeClaim);
      } else if (key.startsWith('pv:')) {
        const obj = this.pvs.get('', key.slice(3));
        if (obj) await this.syncVolume(obj as PersistentVolume);
      }
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  private async syncClaim(pvc: PersistentVolumeClaim): Promise<void> {
    const ns = pvc.metadata?.namespace ?? '';
    const name = pvc.metadata?.name ?? '';
    const volName = pvc.spec?.volumeName;
    if (volName) {
      const pv = this.pvs.get('', volName) as PersistentVolume | undefined;
      if (!pv) {
        // Bound to a volume that is gone: Lost; pre-bound to one not there yet: wait.
        if (pvc.status?.phase === 'Bound') {
          await this.setClaimPhase(pvc, 'Lost');
          this.recorder.event(asApiObject(pvc), 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
        }
        return;
      }
      const ref = pv.spec?.claimRef;
      if (!ref || (ref.name === name && ref.namespace === ns && (!ref.uid || ref.uid === pvc.metadata?.uid))) {
        await this.bind(pv, pvc);
        return;
      }
      if (pvc.status?.phase !== 'Pending') await this.setClaimPhase(pvc, 'Pending');
      return;
    }
    const cls = pvc.spec?.storageClassName ? (this.classes.get('', pvc.spec.storageClassName) as StorageClass | undefined) : undefined;
    const delayed = cls?.volumeBindingMode === 'WaitForFirstConsumer';
    const selectedNode = pvc.metadata?.annotations?.[annSelectedNode];
    if (delayed && !selectedNode) {
      this.recorder.event(asApiObject(pvc), 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    const nodeLabels = selectedNode ? ((this.nodes.get('', selectedNode)?.metadata?.labels ?? { 'kubernetes.io/hostname': selectedNode }) as Record<string, string>) : undefined;
    const match = this.findVolume(pvc, nodeLabels);
    if (match) {
      await this.bind(match, pvc);
      return;
    }
    const className = pvc.spec?.storageClassName ?? '';
    if (!className) {
      this.recorder.event(asApiObject(pvc), 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (!cls) {
      this.recorder.event(asApiObject(pvc), 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    if (!cls.provisioner || cls.provisioner === 'kubernetes.io/no-provisioner') {
      this.recorder.event(asApiObject(pvc), 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (pvc.metadata?.annotations?.[annStorageProvisioner] !== cls.provisioner) {
      const anns = { ...pvc.metadata?.annotations, [annStorageProvisioner]: cls.provisioner, [annBetaStorageProvisioner]: cls.provisioner };
      await this.ctx.client.update(refs.persistentvolumeclaims, ns, { ...asApiObject(pvc), metadata: { ...pvc.metadata, annotations: anns } });
      this.recorder.event(
        asApiObject(pvc),
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${cls.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
    }
  }

  /** The smallest Available volume that fits (one pre-bound to this claim first). */
  private findVolume(pvc: PersistentVolumeClaim, nodeLabels: Record<string, string> | undefined): PersistentVolume | undefined {
    let best: PersistentVolume | undefined;
    for (const o of this.pvs.list()) {
      const pv = o as PersistentVolume;
      if (pv.metadata?.deletionTimestamp) continue;
      const ref = pv.spec?.claimRef;
      const preBound = !!ref && ref.name === pvc.metadata?.name && ref.namespace === pvc.metadata?.namespace && (!ref.uid || ref.uid === pvc.metadata?.uid);
      if (ref && !preBound) continue;
      if (!preBound && pv.status?.phase !== 'Available' && pv.status?.phase !== 'Pending' && pv.status?.phase !== undefined) continue;
      if (!volumeFits(pv, pvc)) continue;
      if (nodeLabels && !nodeAffinityAllows(pv, nodeLabels)) continue;
      if (preBound) return pv;
      if (!best || storageOf(pv.spec?.capacity).cmp(storageOf(best.spec?.capacity)) < 0) best = pv;
    }
    return best;
  }

  /** Binds both ways: claimRef and phase on the volume, then volumeName, annotations and phase on the claim. */
  private async bind(pv: PersistentVolume, pvc: PersistentVolumeClaim): Promise<void> {
    const ns = pvc.metadata?.namespace ?? '';
    let volume = pv;
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid !== pvc.metadata?.uid) {
      const anns = ref ? pv.metadata?.annotations : { ...pv.metadata?.annotations, [annBoundByController]: 'yes' };
      const claimRef = { kind: 'PersistentVolumeClaim', namespace: ns, name: pvc.metadata?.name, uid: pvc.metadata?.uid, apiVersion: 'v1', resourceVersion: pvc.metadata?.resourceVersion };
      volume = (await this.ctx.client.update(refs.persistentvolumes, '', { ...asApiObject(pv), metadata: { ...pv.metadata, annotations: anns }, spec: { ...pv.spec, claimRef } })) as PersistentVolume;
    }
    if (volume.status?.phase !== 'Bound') {
      volume = (await this.ctx.client.update(refs.persistentvolumes, '', { ...asApiObject(volume), status: { ...volume.status, phase: 'Bound' } }, { subresource: 'status' })) as PersistentVolume;
    }
    let claim = pvc;
    const anns = pvc.metadata?.annotations ?? {};
    if (pvc.spec?.volumeName !== pv.metadata?.name || anns[annBindCompleted] !== 'yes') {
      const next: Record<string, string> = { ...anns, [annBindCompleted]: 'yes' };
      if (pvc.spec?.volumeName !== pv.metadata?.name) next[annBoundByController] = 'yes';
      claim = (await this.ctx.client.update(refs.persistentvolumeclaims, ns, { ...asApiObject(pvc), metadata: { ...pvc.metadata, annotations: next }, spec: { ...pvc.spec, volumeName: pv.metadata?.name } })) as PersistentVolumeClaim;
    }
    const status = { ...claim.status, phase: 'Bound', accessModes: volume.spec?.accessModes, capacity: volume.spec?.capacity };
    if (claim.status?.phase !== 'Bound' || JSON.stringify(claim.status?.capacity) !== JSON.stringify(status.capacity)) {
      await this.ctx.client.update(refs.persistentvolumeclaims, ns, { ...asApiObject(claim), status }, { subresource: 'status' });
    }
  }

  private async setClaimPhase(pvc: PersistentVolumeClaim, phase: string): Promise<void> {
    await this.ctx.client.update(refs.persistentvolumeclaims, pvc.metadata?.namespace ?? '', { ...asApiObject(pvc), status: { ...pvc.status, phase } }, { subresource: 'status' });
  }

  private async setVolumePhase(pv: PersistentVolume, phase: string): Promise<void> {
    if (pv.status?.phase === phase) return;
    await this.ctx.client.update(refs.persistentvolumes, '', { ...asApiObject(pv), status: { ...pv.status, phase } }, { subresource: 'status' });
  }

  private async syncVolume(pv: PersistentVolume): Promise<void> {
    if (pv.metadata?.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    if (!ref?.name) {
      await this.setVolumePhase(pv, 'Available');
      return;
    }
    const pvc = this.pvcs.get(ref.namespace ?? '', ref.name) as PersistentVolumeClaim | undefined;
    const sameClaim = pvc && (!ref.uid || pvc.metadata?.uid === ref.uid);
    if (sameClaim) {
      if (pvc.spec?.volumeName === pv.metadata?.name) await this.setVolumePhase(pv, 'Bound');
      else if (!ref.uid) await this.setVolumePhase(pv, 'Available'); // pre-bound, waiting for its claim
      return;
    }
    if (!ref.uid) {
      await this.setVolumePhase(pv, 'Available');
      return;
    }
    // The claim is gone: release, then reclaim.
    if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') await this.setVolumePhase(pv, 'Released');
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Delete') {
      try {
        await this.ctx.client.delete(refs.persistentvolumes, '', pv.metadata?.name ?? '', { preconditions: { uid: pv.metadata?.uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }
}

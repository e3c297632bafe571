import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { refs, splitKey } from '../client/informer.js';
import { ApiError, isNotFound, type ApiObject } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';
import { asApiObject } from './pod-control.js';
import { annBetaStorageProvisioner, annProvisionedBy, annSelectedNode, annStorageProvisioner } from './persistent-volume-binder.js';

/** The provisioner name, as k3s' local-path-provisioner registers it. */
export const localPathProvisioner = 'rancher.io/local-path';
export const defaultStorageClassName = 'local-path';
const defaultClassKey = '\0default-storageclass';

/**
 * A dynamic provisioner like k3s' local-path-provisioner: a claim handed to `rancher.io/local-path`
 * (by the volume binder's `volume.kubernetes.io/storage-provisioner` annotation) gets a hostPath
 * PersistentVolume `pvc-<uid>` at `<storageDir>/pvc-<uid>_<ns>_<name>`, pinned by node affinity
 * to the node the scheduler selected, and pre-bound to the claim. Creates the default
 * StorageClass `local-path` at start if missing. Options: `storageDir` (default `/var/lib/k8ts/storage`).
 */
export class LocalPathProvisioner extends Controller {
  readonly name = 'local-path-provisioner';
  private readonly pvcs = this.ctx.informers.for(refs.persistentvolumeclaims);
  private readonly pvs = this.ctx.informers.for(refs.persistentvolumes);
  private readonly classes = this.ctx.informers.for(refs.storageclasses);
  private readonly nodes = this.ctx.informers.for(refs.nodes);
  private readonly recorder = this.ctx.recorder(`${localPathProvisioner}_k8ts`);
  private readonly storageDir = String(this.ctx.options['storageDir'] ?? '/var/lib/k8ts/storage');

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    this.queue.add(defaultClassKey);
    this.pvcs.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (_, o) => this.enqueue(o) });
    this.pvs.addEventHandler({ onDelete: (o) => void this.cleanUp(o as PersistentVolume) });
  }

  async reconcile(key: string): Promise<void> {
    if (key === defaultClassKey) return this.ensureDefaultClass();
    const { namespace, name } = splitKey(key);
    const pvc = this.pvcs.get(namespace, name) as PersistentVolumeClaim | undefined;
    if (!pvc || pvc.metadata?.deletionTimestamp || pvc.spec?.volumeName) return;
    const anns = pvc.metadata?.annotations ?? {};
    if ((anns[annStorageProvisioner] ?? anns[annBetaStorageProvisioner]) !== localPathProvisioner) return;
    const cls = this.classes.get('', pvc.spec?.storageClassName ?? '') as StorageClass | undefined;
    if (!cls || cls.provisioner !== localPathProvisioner) return;
    const pvName = `pvc-${pvc.metadata?.uid ?? ''}`;
    if (this.pvs.get('', pvName)) return;
    let node = anns[annSelectedNode];
    if (!node) {
      if (cls.volumeBindingMode === 'WaitForFirstConsumer') return;
      // Immediate binding: no consumer yet, so any node will do; the pod then follows the volume.
      node = this.nodes.list().map((n) => n.metadata?.name ?? '').filter(Boolean).sort()[0];
    }
    this.recorder.event(asApiObject(pvc), 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${namespace}/${name}"`);
    const path = join(this.storageDir, `${pvName}_${namespace}_${name}`);
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { [annProvisionedBy]: localPathProvisioner, ...(node ? { 'local.path.provisioner/selected-node': node } : {}) } },
      spec: {
        capacity: { storage: pvc.spec?.resources?.requests?.['storage'] ?? '0' },
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
        storageClassName: cls.metadata?.name ?? '',
        volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
        hostPath: { path, type: 'DirectoryOrCreate' },
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name, uid: pvc.metadata?.uid, resourceVersion: pvc.metadata?.resourceVersion },
        ...(node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } } : {}),
      },
    };
    try {
      await this.ctx.client.create(refs.persistentvolumes, '', asApiObject(pv));
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) return;
      this.recorder.event(asApiObject(pvc), 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${cls.metadata?.name ?? ''}": ${(e as Error).message}`);
      throw e;
    }
    this.recorder.event(asApiObject(pvc), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }

  private async ensureDefaultClass(): Promise<void> {
    try {
      await this.ctx.client.get(refs.storageclasses, '', defaultStorageClassName);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const sc: ApiObject = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: defaultStorageClassName, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: localPathProvisioner,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    };
    try {
      await this.ctx.client.create(refs.storageclasses, '', sc);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
  }

  /** Removes the data of a deleted volume this provisioner made, when it lives on this machine. */
  private async cleanUp(pv: PersistentVolume): Promise<void> {
    const path = pv.spec?.hostPath?.path;
    if (pv.metadata?.annotations?.[annProvisionedBy] !== localPathProvisioner || !path || !path.startsWith(this.storageDir + '/')) return;
    await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

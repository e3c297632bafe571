/**
 * persistentVolumeClaim (and generic `ephemeral` volumes, whose claim is `<pod>-<volume>`): the
 * claim's bound PersistentVolume, used in place when it is a hostPath or local volume (what the
 * local-path provisioner makes). Other kinds of PV need a driver this kubelet does not have.
 */
import type { PersistentVolume, PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { stat } from 'node:fs/promises';
import { isNotFound } from '../../client/interface.js';
import { refs } from '../../client/informer.js';
import { checkHostPathType } from './host-path.js';
import { VolumeError } from './volume-error.js';
import type { ReadyVolume, VolumeHost, VolumePlugin } from './volume-plugin.js';

function processingError(volume: string, message: string): VolumeError {
  return new VolumeError(`Unable to attach or mount volumes: unmounted volumes=[${volume}], unattached volumes=[], failed to process volumes=[${volume}]: ${message}`, volume);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class PersistentVolumeClaimPlugin implements VolumePlugin {
  /** Claims are used in place; nothing of theirs lives under the pod's directory. */
  readonly name = 'kubernetes.io~pvc';

  handles(volume: Volume): boolean {
    return !!volume.persistentVolumeClaim || !!volume.ephemeral;
  }

  async setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume> {
    const namespace = pod.metadata?.namespace ?? '';
    const ephemeral = !!volume.ephemeral;
    const claimName = ephemeral ? `${pod.metadata?.name ?? ''}-${volume.name}` : (volume.persistentVolumeClaim?.claimName ?? '');
    const fail = (m: string): VolumeError => processingError(volume.name, `error processing PVC ${namespace}/${claimName}: ${m}`);
    let pvc: PersistentVolumeClaim;
    try {
      pvc = (await host.client.get(refs.persistentvolumeclaims, namespace, claimName)) as PersistentVolumeClaim;
    } catch (e) {
      throw fail(`failed to fetch PVC from API server: ${errText(e)}`);
    }
    if (ephemeral && !(pvc.metadata?.ownerReferences ?? []).some((o) => o.controller && o.uid === pod.metadata?.uid)) {
      throw fail(`PVC ${namespace}/${claimName} was not created for pod ${namespace}/${pod.metadata?.name ?? ''} (pod is not owner)`);
    }
    if (pvc.metadata?.deletionTimestamp) throw fail('can\'t start pod because PVC is being deleted');
    if (pvc.status?.phase !== 'Bound') throw fail('PVC is not bound');
    const pvName = pvc.spec?.volumeName ?? '';
    if (!pvName) throw fail('PVC has empty pvc.Spec.VolumeName');
    let pv: PersistentVolume;
    try {
      pv = (await host.client.get(refs.persistentvolumes, '', pvName)) as PersistentVolume;
    } catch (e) {
      throw processingError(volume.name, `failed to fetch PV ${pvName} from API server: ${isNotFound(e) ? `persistentvolumes "${pvName}" not found` : errText(e)}`);
    }
    const claimRef = pv.spec?.claimRef;
    if (!claimRef) throw processingError(volume.name, `found PV object ${pvName} but it has a nil or empty ClaimRef`);
    if (claimRef.uid && claimRef.uid !== pvc.metadata?.uid) {
      throw processingError(volume.name, `found PV object ${pvName} but its ClaimRef UID ${claimRef.uid} doesn't match PVC UID ${pvc.metadata?.uid ?? ''}`);
    }
    const readOnly = volume.persistentVolumeClaim?.readOnly === true;
    const setUpFailed = (m: string): VolumeError => new VolumeError(`MountVolume.SetUp failed for volume "${pvName}" : ${m}`, volume.name);
    if (pv.spec?.hostPath) {
      try {
        await checkHostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type);
      } catch (e) {
        throw setUpFailed(errText(e));
      }
      return { hostPath: pv.spec.hostPath.path, readOnly, selinuxRelabel: false, projected: false };
    }
    if (pv.spec?.local) {
      const path = pv.spec.local.path;
      const st = await stat(path).catch(() => undefined);
      if (!st) throw setUpFailed(`mount failed: stat ${path}: no such file or directory`);
      return { hostPath: path, readOnly, selinuxRelabel: false, projected: false };
    }
    const kind = Object.keys(pv.spec ?? {}).find((k) => !['accessModes', 'capacity', 'claimRef', 'mountOptions', 'nodeAffinity', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'volumeAttributesClassName'].includes(k));
    throw setUpFailed(`volume source ${kind ?? 'unknown'} is not supported by this kubelet (hostPath and local persistent volumes are)`);
  }
}

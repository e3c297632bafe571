import type { AdmissionHook, RegisteredResource } from '../registry/generic-store.js';
import type { KubeObject, RequestContext } from '../registry/strategy.js';

/** The annotation that marks the cluster's default StorageClass. */
export const defaultClassAnnotation = 'storageclass.kubernetes.io/is-default-class';

/** Lists every StorageClass. */
export type StorageClassLookup = () => Promise<KubeObject[]>;

/** The default class among `classes`: the newest of those annotated default (as Kubernetes ≥ 1.28 picks). */
export function defaultStorageClass(classes: readonly KubeObject[]): KubeObject | undefined {
  const defaults = classes.filter((c) => c.metadata?.annotations?.[defaultClassAnnotation] === 'true' || c.metadata?.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true');
  defaults.sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')) || String(a.metadata?.name ?? '').localeCompare(String(b.metadata?.name ?? '')));
  return defaults[0];
}

/**
 * The DefaultStorageClass admission plugin: a new PersistentVolumeClaim that names no
 * storageClassName (absent, not "") gets the default StorageClass.
 */
export class DefaultStorageClass implements AdmissionHook {
  constructor(private readonly storageClasses: StorageClassLookup) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', resource: RegisteredResource, obj: KubeObject, _old: KubeObject | undefined, _ctx: RequestContext, subresource: string): Promise<void> {
    const d = resource.descriptor;
    if (op !== 'CREATE' || subresource || d.group !== '' || d.resource !== 'persistentvolumeclaims') return;
    if (obj.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
    const spec = (obj.spec ??= {}) as { storageClassName?: string | null };
    if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
    const cls = defaultStorageClass(await this.storageClasses());
    if (cls?.metadata?.name) spec.storageClassName = cls.metadata.name;
  }
}

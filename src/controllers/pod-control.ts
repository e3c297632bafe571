/**
 * What every workload controller does with the objects it owns (Kubernetes' controller_utils
 * and ControllerRefManager): controller references, pod readiness and availability, creating
 * pods from a template and deleting them with events, and claiming (adopting / releasing)
 * objects by label selector.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isNotFound, type ApiObject, type Client, type ResourceRef } from '../client/interface.js';
import type { EventRecorder } from '../client/event-recorder.js';
import { refs } from '../client/informer.js';
import type { Selector } from '../machinery/labels.js';
import { deepClone } from '../machinery/json-value.js';

/** Views any typed Kubernetes object as the client's plain object. */
export function asApiObject(obj: object): ApiObject {
  return obj as ApiObject;
}

/** The ownerReference with `controller: true`, if any. */
export function controllerRef(obj: ApiObject | { metadata?: { ownerReferences?: OwnerReference[] } }): OwnerReference | undefined {
  const owners = (obj.metadata as { ownerReferences?: OwnerReference[] } | undefined)?.ownerReferences;
  return owners?.find((o) => o.controller === true);
}

/** The reference a controller puts on what it creates (controller and blockOwnerDeletion set). */
export function newControllerRef(owner: ApiObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** PodReady condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** When the pod last became ready, if it is ready. */
export function podReadySince(pod: Pod): Date | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  if (!c) return undefined;
  return c.lastTransitionTime ? new Date(c.lastTransitionTime) : new Date(0);
}

/** Ready for at least `minReadySeconds` (Kubernetes' IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  const since = podReadySince(pod);
  if (!since) return false;
  if (minReadySeconds <= 0) return true;
  return since.getTime() + minReadySeconds * 1000 <= now.getTime();
}

/** Not finished and not being deleted: counts towards a controller's replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** The pod a controller creates from `template`: named `<owner>-xxxxx`, owned by the controller. */
export function podFromTemplate(template: PodTemplateSpec | undefined, owner: ApiObject, ownerRef: OwnerReference): Pod {
  const t = deepClone(template ?? {});
  const meta = t.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata?.name ?? 'pod'}-`,
      namespace: owner.metadata?.namespace,
      labels: meta.labels ?? {},
      ownerReferences: [ownerRef],
    },
    spec: t.spec ?? { containers: [] },
  };
  if (meta.annotations) pod.metadata!.annotations = meta.annotations;
  if (meta.finalizers) pod.metadata!.finalizers = meta.finalizers;
  return pod;
}

/** Creates and deletes pods for a controller, recording SuccessfulCreate/Delete and failures on the owner. */
export class PodControl {
  constructor(
    private readonly client: Client,
    private readonly recorder: EventRecorder,
  ) {}

  /** Creates one pod from `template`, owned by `owner`. Returns the created pod. */
  async createPod(namespace: string, template: PodTemplateSpec | undefined, owner: ApiObject, ownerRef: OwnerReference): Promise<Pod> {
    const pod = podFromTemplate(template, owner, ownerRef);
    if (!pod.metadata?.labels || Object.keys(pod.metadata.labels).length === 0) throw new Error('unable to create pods, no labels');
    try {
      const created = (await this.client.create(refs.pods, namespace, asApiObject(pod))) as Pod;
      this.recorder.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
      return created;
    } catch (e) {
      this.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Deletes a pod; NotFound counts as done (returns false then). */
  async deletePod(namespace: string, name: string, owner: ApiObject): Promise<boolean> {
    try {
      await this.client.delete(refs.pods, namespace, name);
      this.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      this.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
      throw e;
    }
  }
}

/** How a controller claims objects of one resource (pods for a ReplicaSet, ReplicaSets for a Deployment). */
export interface ClaimOptions {
  client: Client;
  /** The resource of the claimed objects. */
  ref: ResourceRef;
  owner: ApiObject;
  ownerApiVersion: string;
  ownerKind: string;
  selector: Selector;
  /** Re-reads the owner (uncached) before adopting, as Kubernetes does, to not adopt for a deleted owner. */
  recheckOwner?: () => Promise<ApiObject | undefined>;
}

/**
 * Kubernetes' ControllerRefManager.Claim: returns the objects the owner controls after adopting
 * matching orphans and releasing owned objects whose labels no longer match. Objects owned by
 * another controller are ignored. Write failures other than NotFound/Conflict are thrown.
 */
export async function claimObjects<T extends object>(candidates: readonly T[], opts: ClaimOptions): Promise<T[]> {
  const uid = opts.owner.metadata?.uid;
  const claimed: T[] = [];
  let ownerChecked: boolean | undefined;
  const canAdopt = async (): Promise<boolean> => {
    if (ownerChecked !== undefined) return ownerChecked;
    if (opts.owner.metadata?.deletionTimestamp) return (ownerChecked = false);
    if (opts.recheckOwner) {
      const fresh = await opts.recheckOwner();
      ownerChecked = !!fresh && fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp;
    } else ownerChecked = true;
    return ownerChecked;
  };
  for (const c of candidates) {
    const obj = asApiObject(c);
    const meta = obj.metadata ?? {};
    const ref = controllerRef(obj);
    const matches = opts.selector.matches(meta.labels ?? {});
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) {
        claimed.push(c);
        continue;
      }
      if (opts.owner.metadata?.deletionTimestamp) continue;
      await writeOwners(opts, obj, (owners) => owners.filter((o) => o.uid !== uid));
      continue;
    }
    if (!matches || meta.deletionTimestamp || !(await canAdopt())) continue;
    const adopted = await writeOwners(opts, obj, (owners) => [...owners.filter((o) => o.uid !== uid), newControllerRef(opts.owner, opts.ownerApiVersion, opts.ownerKind)]);
    if (adopted) claimed.push(adopted as T);
  }
  return claimed;
}

async function writeOwners(opts: ClaimOptions, obj: ApiObject, change: (owners: OwnerReference[]) => OwnerReference[]): Promise<ApiObject | undefined> {
  const meta = obj.metadata ?? {};
  const owners = (meta['ownerReferences'] as OwnerReference[] | undefined) ?? [];
  const next = deepClone(obj);
  const nextOwners = change(owners);
  if (nextOwners.length) next.metadata = { ...next.metadata, ownerReferences: nextOwners };
  else if (next.metadata) delete next.metadata['ownerReferences'];
  try {
    return await opts.client.update(opts.ref, meta.namespace ?? '', next);
  } catch (e) {
    // Gone, or changed meanwhile: the next sync sees the new state.
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

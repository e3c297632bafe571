/**
 * ControllerRevisions as StatefulSet and DaemonSet keep them (Kubernetes' controller/history):
 * one immutable snapshot of the pod template per distinct template, named `<owner>-<hash>`,
 * labelled `controller-revision-hash`, numbered in order of use, and pruned to the history limit.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { refs } from '../client/informer.js';
import { ApiError, isNotFound, type ApiObject, type Client } from '../client/interface.js';
import { deepClone, deepEqual } from '../machinery/json-value.js';
import { fnv32a, safeEncodeString } from './deployment-util.js';
import { asApiObject, newControllerRef } from './pod-control.js';
import { canonicalJson } from '../machinery/json-value.js';

/** The label (on pods and revisions) naming the revision a pod was made from. */
export const controllerRevisionHashLabel = 'controller-revision-hash';

/** The revision data of a template: the patch that restores it, as Kubernetes stores it. */
export function revisionData(template: PodTemplateSpec | undefined): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...(deepClone(template ?? {}) as Record<string, unknown>), $patch: 'replace' } } };
}

/** The template a revision holds. */
export function templateOfRevision(rev: ControllerRevision): PodTemplateSpec {
  const t = deepClone(((rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {}) as Record<string, unknown>);
  delete t['$patch'];
  return t as PodTemplateSpec;
}


/** FNV-32a of the data (plus the collision count), safe-encoded (HashControllerRevision). */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJson(data), 'utf8'));
  if (collisionCount) {
    const extra = Buffer.alloc(8);
    extra.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(extra, h);
  }
  return safeEncodeString(String(h));
}

/** `<owner>-<hash>`, the owner part cut so the name stays a valid object name. */
export function revisionName(owner: string, hash: string): string {
  return `${owner.slice(0, 223)}-${hash}`;
}

export function byRevision(a: ControllerRevision, b: ControllerRevision): number {
  return (a.revision ?? 0) - (b.revision ?? 0) || String(a.metadata?.name).localeCompare(String(b.metadata?.name));
}

/** One more than the highest revision number in use. */
export function nextRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0) + 1;
}

/** What `syncRevisions` needs to know about the owner. */
export interface RevisionOwner {
  owner: ApiObject;
  apiVersion: string;
  kind: string;
  template: PodTemplateSpec | undefined;
  /** `status.collisionCount`: bumped when a hash names a revision with other data. */
  collisionCount: number;
  /** `status.currentRevision`, for StatefulSets (DaemonSets pass undefined). */
  currentRevisionName?: string;
}

/** The revisions after a sync. */
export interface RevisionState {
  /** Every revision of the owner, oldest first. */
  revisions: ControllerRevision[];
  /** The revision of the current template (created or renumbered if needed). */
  update: ControllerRevision;
  /** The revision named by `currentRevisionName`, or `update` when there is none. */
  current: ControllerRevision;
  collisionCount: number;
}

/**
 * Makes sure the owner's current template has the newest revision: reuses an equal revision
 * (renumbering it if it is not the latest, as a rollback does), or creates one; a name taken by
 * different data bumps the collision count and tries again.
 */
export async function syncRevisions(client: Client, o: RevisionOwner, owned: readonly ControllerRevision[]): Promise<RevisionState> {
  const ns = o.owner.metadata?.namespace ?? '';
  const revisions = [...owned].sort(byRevision);
  const data = revisionData(o.template);
  let collisionCount = o.collisionCount;
  const equal = revisions.filter((r) => deepEqual(r.data, data));
  let update: ControllerRevision;
  const latest = revisions[revisions.length - 1];
  const found = equal[equal.length - 1];
  if (found && found === latest) {
    update = found;
  } else if (found) {
    const renumbered = { ...deepClone(found), revision: nextRevisionNumber(revisions) };
    update = (await client.update(refs.controllerrevisions, ns, asApiObject(renumbered))) as unknown as ControllerRevision;
    revisions.splice(revisions.indexOf(found), 1, update);
    revisions.sort(byRevision);
  } else {
    const number = nextRevisionNumber(revisions);
    for (;;) {
      const hash = hashRevisionData(data, collisionCount);
      const rev: ControllerRevision = {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name: revisionName(o.owner.metadata?.name ?? '', hash),
          namespace: ns,
          labels: { ...(o.template?.metadata?.labels ?? {}), [controllerRevisionHashLabel]: hash },
          ownerReferences: [newControllerRef(o.owner, o.apiVersion, o.kind)],
        },
        data,
        revision: number,
      };
      try {
        update = (await client.create(refs.controllerrevisions, ns, asApiObject(rev))) as unknown as ControllerRevision;
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
        const existing = (await client.get(refs.controllerrevisions, ns, rev.metadata?.name ?? '')) as unknown as ControllerRevision;
        const ours = ((existing.metadata?.ownerReferences ?? []).some((r) => r.uid === o.owner.metadata?.uid));
        if (ours && deepEqual(existing.data, data)) {
          // Our own revision the cache had not shown yet.
          update = existing;
          break;
        }
        collisionCount++;
      }
    }
    const stale = revisions.findIndex((r) => r.metadata?.name === update.metadata?.name);
    if (stale >= 0) revisions.splice(stale, 1);
    revisions.push(update);
    revisions.sort(byRevision);
  }
  const current = revisions.find((r) => r.metadata?.name === o.currentRevisionName) ?? update;
  return { revisions, update, current, collisionCount };
}

/**
 * Deletes the oldest revisions beyond `limit` that no live pod uses and that are neither the
 * current nor the update revision.
 */
export async function truncateHistory(client: Client, revisions: readonly ControllerRevision[], keep: ReadonlySet<string>, limit: number): Promise<void> {
  const removable = [...revisions].sort(byRevision).filter((r) => !keep.has(r.metadata?.name ?? '') && !keep.has(r.metadata?.labels?.[controllerRevisionHashLabel] ?? '\0'));
  for (const r of removable.slice(0, Math.max(0, removable.length - limit))) {
    try {
      await client.delete(refs.controllerrevisions, r.metadata?.namespace ?? '', r.metadata?.name ?? '', { preconditions: { uid: r.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

import { builtinResources } from '../../../../src/api/resource-table.js';
import { GenericStore } from '../../../../src/apiserver/registry/generic-store.js';
import type { KubeObject, RequestContext } from '../../../../src/apiserver/registry/strategy.js';
import { groupStrategies } from '../../../../src/apiserver/registry/resources/groups-index.js';
import { StatusError } from '../../../../src/machinery/status-error.js';
import { MemoryBackend } from '../../../../src/store/memory.js';

/** A GenericStore for `group/resource` with its real strategy over a memory backend. */
export function storeFor(group: string, resource: string): GenericStore {
  const descriptor = builtinResources.find((d) => d.group === group && d.resource === resource);
  if (!descriptor) throw new Error(`no descriptor ${group}/${resource}`);
  const strategy = groupStrategies()[`${group}/${resource}`];
  if (!strategy) throw new Error(`no strategy ${group}/${resource}`);
  return new GenericStore({ descriptor, strategy, prefix: `/registry/${group}/${resource}/` }, new MemoryBackend(), [], undefined);
}

export function ctx(namespace = 'default'): RequestContext {
  return { namespace, user: { name: 'admin', groups: ['system:masters'] }, dryRun: false, now: new Date('2024-05-01T10:00:00Z') };
}

export const write = { dryRun: false, fieldManager: 'test' };

/** The message of the StatusError a write fails with. */
export async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StatusError) return e.message;
    throw e;
  }
  throw new Error('expected the write to be rejected');
}

export function podTemplate(labels: Record<string, string>, restartPolicy?: string): KubeObject {
  const spec: Record<string, unknown> = { containers: [{ name: 'c', image: 'busybox:1.36' }] };
  if (restartPolicy) spec.restartPolicy = restartPolicy;
  return { metadata: { labels }, spec };
}

/** The value at a path of plain JSON (`dig(obj, 'spec', 'template', 0)`). */
export function dig(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** A shallow copy of `obj.spec` with `changes` applied. */
export function withSpec(obj: KubeObject, changes: Record<string, unknown>): KubeObject {
  return { ...obj, spec: { ...(obj.spec as Record<string, unknown>), ...changes } };
}

import type { GenericStore } from '../../../../src/apiserver/registry/generic-store.js';
import type { KubeObject } from '../../../../src/apiserver/registry/strategy.js';
import { groupStrategies } from '../../../../src/apiserver/registry/resources/groups-index.js';
import { builtinStore } from '../../../support/registry-harness.js';

export { ctx, write, rejection } from '../../../support/registry-harness.js';

/** A GenericStore for `group/resource` with its real strategy over a memory backend. */
export function storeFor(group: string, resource: string): GenericStore {
  const strategy = groupStrategies()[`${group}/${resource}`];
  if (!strategy) throw new Error(`no strategy ${group}/${resource}`);
  return builtinStore(group, resource, strategy);
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

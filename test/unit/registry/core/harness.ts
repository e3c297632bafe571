/** Builds a GenericStore over a MemoryBackend for one core resource, to test strategies end to end. */
import { builtinResources } from '../../../../src/api/resource-table.js';
import { GenericStore, type AdmissionHook } from '../../../../src/apiserver/registry/generic-store.js';
import type { KubeObject, RequestContext, Strategy } from '../../../../src/apiserver/registry/strategy.js';
import { MemoryBackend } from '../../../../src/store/memory.js';
import { StatusError } from '../../../../src/machinery/status-error.js';

export function storeFor(resource: string, strategy: Strategy, admission: AdmissionHook[] = [], backend = new MemoryBackend()): GenericStore {
  const descriptor = builtinResources.find((d) => d.group === '' && d.resource === resource);
  if (!descriptor) throw new Error(`no descriptor for ${resource}`);
  return new GenericStore({ descriptor, strategy, prefix: `/registry/${resource}/` }, backend, admission, undefined);
}

export function ctx(namespace = 'default', now = new Date('2024-05-01T10:00:00Z')): RequestContext {
  return { namespace, user: { name: 'admin', groups: ['system:masters'] }, dryRun: false, now };
}

export const write = { dryRun: false, fieldManager: 'test' };
export const dryRun = { dryRun: true, fieldManager: 'test' };

/** The message of the StatusError a promise rejects with. */
export async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StatusError) return e.message;
    throw e;
  }
  throw new Error('expected the promise to reject');
}

export function spec(obj: KubeObject): Record<string, unknown> {
  return obj.spec as Record<string, unknown>;
}

/** A deterministic random source (a small LCG). */
export function seededRandom(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Shared pieces for strategy tests: a GenericStore over a MemoryBackend, a request context, and error capture. */
import { builtinResources } from '../../src/api/resource-table.js';
import { GenericStore, type AdmissionHook } from '../../src/apiserver/registry/generic-store.js';
import type { RequestContext, Strategy } from '../../src/apiserver/registry/strategy.js';
import { StatusError } from '../../src/machinery/status-error.js';
import { MemoryBackend } from '../../src/store/memory.js';

/** A GenericStore for the built-in `group/resource` with the given strategy. */
export function builtinStore(group: string, resource: string, strategy: Strategy, admission: AdmissionHook[] = [], backend = new MemoryBackend()): GenericStore {
  const descriptor = builtinResources.find((d) => d.group === group && d.resource === resource);
  if (!descriptor) throw new Error(`no descriptor for ${group}/${resource}`);
  return new GenericStore({ descriptor, strategy, prefix: `/registry/${group || 'core'}/${resource}/` }, backend, admission, undefined);
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

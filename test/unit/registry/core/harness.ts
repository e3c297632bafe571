/** Builds a GenericStore over a MemoryBackend for one core resource, to test strategies end to end. */
import type { AdmissionHook } from '../../../../src/apiserver/registry/generic-store.js';
import type { GenericStore } from '../../../../src/apiserver/registry/generic-store.js';
import type { KubeObject, Strategy } from '../../../../src/apiserver/registry/strategy.js';
import { MemoryBackend } from '../../../../src/store/memory.js';
import { builtinStore } from '../../../support/registry-harness.js';

export { ctx, write, dryRun, rejection } from '../../../support/registry-harness.js';

export function storeFor(resource: string, strategy: Strategy, admission: AdmissionHook[] = [], backend = new MemoryBackend()): GenericStore {
  return builtinStore('', resource, strategy, admission, backend);
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

import type { Backend } from '../../../store/backend.js';
import type { VersionConverter } from '../generic-store.js';
import type { KubeObject, Strategy } from '../strategy.js';
import { coreStrategies, ServiceAllocators, defaultServiceCIDR, defaultNodePortRange } from './core/index.js';
import { markNamespaceTerminating, namespaceHeldBySpecFinalizers } from './core/namespaces.js';
import { groupConverters, groupStrategies } from './groups-index.js';

export interface BuiltinStrategyDeps {
  serviceCIDR?: string;
  nodePortRange?: readonly [number, number];
  /** Where stored Services are read from to seed the ClusterIP and NodePort allocators. */
  backend: Backend;
}

/** Every built-in resource's strategy (keyed `group/resource`, core group ''), converters, and their start-up. */
export function builtinStrategies(deps: BuiltinStrategyDeps): { strategies: Map<string, Strategy>; converters: Map<string, VersionConverter>; init(): Promise<void> } {
  const allocators = new ServiceAllocators({
    serviceCIDR: deps.serviceCIDR ?? defaultServiceCIDR,
    nodePortRange: deps.nodePortRange ?? defaultNodePortRange,
    existingServices: async () => (await deps.backend.list('/registry/core/services/')).items.map((kv) => JSON.parse(kv.value) as KubeObject),
  });
  const strategies = new Map<string, Strategy>();
  const add = (key: string, s: Strategy): void => {
    if (strategies.has(key)) throw new Error(`duplicate strategy for ${key}`);
    strategies.set(key, s);
  };
  for (const [resource, s] of Object.entries(coreStrategies({ allocators }))) add(`/${resource}`, s);
  for (const [key, s] of Object.entries(groupStrategies())) add(key, s);
  // A namespace with spec.finalizers stays, Terminating, until the namespace controller empties it.
  const ns = strategies.get('/namespaces');
  if (ns) {
    strategies.set('/namespaces', {
      ...ns,
      holdsDeletion: namespaceHeldBySpecFinalizers,
      beginDeletion: (obj) => Object.assign(obj, markNamespaceTerminating(obj, new Date())),
    });
  }
  const converters = new Map<string, VersionConverter>(Object.entries(groupConverters()));
  return { strategies, converters, init: () => allocators.init() };
}

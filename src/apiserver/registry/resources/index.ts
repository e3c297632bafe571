// TEMPORARY smoke-test version; replaced when the strategy helpers land.
import type { Backend } from '../../../store/backend.js';
import type { VersionConverter } from '../generic-store.js';
import type { Strategy } from '../strategy.js';

export interface BuiltinStrategyDeps {
  serviceCIDR: string;
  nodePortRange: [number, number];
  backend: Backend;
}

export function builtinStrategies(_deps: BuiltinStrategyDeps): { strategies: Map<string, Strategy>; converters: Map<string, VersionConverter>; init(): Promise<void> } {
  return { strategies: new Map(), converters: new Map(), init: async () => {} };
}

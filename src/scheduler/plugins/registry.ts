/**
 * Scheduler plugins by name: an explicit map that refuses duplicates, and the default profile
 * (Kubernetes' default plugins and score weights).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { InformerFactory, SharedInformer } from '../../client/informer.js';
import type { LabelSelector } from '../../machinery/labels.js';
import type { FrameworkHandle, Plugin } from '../framework.js';
import type { SchedulingFramework } from '../framework-runner.js';
import { BalancedAllocationPlugin } from './balanced-allocation.js';
import { DefaultBinderPlugin } from './default-binder.js';
import { DefaultPreemptionPlugin } from './default-preemption.js';
import { ImageLocalityPlugin } from './image-locality.js';
import { InterPodAffinityPlugin } from './inter-pod-affinity.js';
import { NodeAffinityPlugin } from './node-affinity.js';
import { NodeNamePlugin } from './node-name.js';
import { NodePortsPlugin } from './node-ports.js';
import { NodeResourcesFitPlugin } from './node-resources-fit.js';
import { NodeUnschedulablePlugin } from './node-unschedulable.js';
import { PodTopologySpreadPlugin } from './pod-topology-spread.js';
import { TaintTolerationPlugin } from './taint-toleration.js';
import { VolumeBindingPlugin } from './volume-binding.js';

/** What plugin factories get: the framework handle plus late access to the built framework. */
export interface PluginContext extends FrameworkHandle {
  informers: InformerFactory;
  framework: () => SchedulingFramework;
  pdbs: SharedInformer | undefined;
  /** Labels a pod's controller/services select it by (default topology spreading). */
  defaultSelector: (pod: Pod) => LabelSelector | undefined;
  bindTimeoutMs: number;
}

export type PluginFactory = (ctx: PluginContext) => Plugin;

export class PluginRegistry {
  private readonly entries = new Map<string, PluginFactory>();

  register(name: string, factory: PluginFactory): this {
    if (this.entries.has(name)) throw new Error(`scheduler plugin ${name} is already registered`);
    this.entries.set(name, factory);
    return this;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  create(name: string, ctx: PluginContext): Plugin {
    const f = this.entries.get(name);
    if (!f) throw new Error(`no scheduler plugin named ${name}`);
    return f(ctx);
  }
}

/** Every in-tree plugin. */
export function inTreeRegistry(): PluginRegistry {
  return new PluginRegistry()
    .register('NodeUnschedulable', () => new NodeUnschedulablePlugin())
    .register('NodeName', () => new NodeNamePlugin())
    .register('TaintToleration', () => new TaintTolerationPlugin())
    .register('NodeAffinity', () => new NodeAffinityPlugin())
    .register('NodePorts', () => new NodePortsPlugin())
    .register('NodeResourcesFit', () => new NodeResourcesFitPlugin())
    .register('VolumeBinding', (c) => new VolumeBindingPlugin(c.informers, c.client, c.clock, c.bindTimeoutMs))
    .register('PodTopologySpread', (c) => new PodTopologySpreadPlugin({ defaultSelector: c.defaultSelector, snapshot: c.snapshot }))
    .register('InterPodAffinity', (c) => new InterPodAffinityPlugin(c.snapshot, c.nsLabels))
    .register('NodeResourcesBalancedAllocation', () => new BalancedAllocationPlugin())
    .register('ImageLocality', (c) => new ImageLocalityPlugin(() => c.snapshot.list().length))
    .register('DefaultPreemption', (c) => new DefaultPreemptionPlugin({ framework: c.framework, snapshot: c.snapshot, client: c.client, recorder: c.recorder, clock: c.clock, pdbs: c.pdbs }))
    .register('DefaultBinder', (c) => new DefaultBinderPlugin(c.client));
}

/** The default profile, in Kubernetes' order, with its score weights. */
export const defaultProfile: Array<{ name: string; weight?: number }> = [
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeBinding' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultPreemption' },
  { name: 'DefaultBinder' },
];

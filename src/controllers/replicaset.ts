import { refs } from '../client/informer.js';
import { nothing, selectorFromLabelSelector, type LabelSelector } from '../machinery/labels.js';
import type { ControllerContext } from './controller.js';
import { ReplicaManager } from './replica-manager.js';

/**
 * Keeps `spec.replicas` pods running for every apps/v1 ReplicaSet (Kubernetes'
 * ReplicaSetController): adopts matching orphans, creates and deletes the difference, and
 * reports replicas, fullyLabeled, ready and available replicas in status.
 */
export class ReplicaSetController extends ReplicaManager {
  constructor(ctx: ControllerContext) {
    super(ctx, {
      name: 'replicaset',
      component: 'replicaset-controller',
      ref: refs.replicasets,
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      selectorOf: (rs) => {
        try {
          return selectorFromLabelSelector(((rs['spec'] ?? {}) as { selector?: LabelSelector }).selector);
        } catch {
          return nothing();
        }
      },
    });
  }
}

import { refs } from '../client/informer.js';
import { nothing, selectorFromSet } from '../machinery/labels.js';
import type { ControllerContext } from './controller.js';
import { ReplicaManager } from './replica-manager.js';

/**
 * Keeps `spec.replicas` pods running for every v1 ReplicationController: the ReplicaSet loop
 * with a plain label-map selector (an empty one selects nothing, as Kubernetes treats it).
 */
export class ReplicationControllerController extends ReplicaManager {
  constructor(ctx: ControllerContext) {
    super(ctx, {
      name: 'replicationcontroller',
      component: 'replication-controller',
      ref: refs.replicationcontrollers,
      apiVersion: 'v1',
      kind: 'ReplicationController',
      selectorOf: (rc) => {
        const sel = ((rc['spec'] ?? {}) as { selector?: Record<string, string> }).selector;
        return sel && Object.keys(sel).length ? selectorFromSet(sel) : nothing();
      },
    });
  }
}

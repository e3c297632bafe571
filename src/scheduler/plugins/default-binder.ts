import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Client } from '../../client/interface.js';
import { Status, type BindPlugin, type CycleState } from '../framework.js';
import { bindPod } from '../pod-binding.js';

/** Binds through the API server's Binding resource. */
export class DefaultBinderPlugin implements BindPlugin {
  readonly name = 'DefaultBinder';

  constructor(private readonly client: Client) {}

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    try {
      await bindPod(this.client, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', nodeName, pod.metadata?.uid);
      return Status.success();
    } catch (e) {
      return Status.fromError(e);
    }
  }
}

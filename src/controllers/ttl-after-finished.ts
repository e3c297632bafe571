import { refs } from '../client/informer.js';
import { isNotFound } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';

interface FinishedCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/**
 * The TTL-after-finished controller: deletes a Job (its pods go with it, by background
 * propagation) `spec.ttlSecondsAfterFinished` after its Complete or Failed condition was set.
 * Time comes from the injected clock.
 */
export class TTLAfterFinishedController extends Controller {
  readonly name = 'ttl-after-finished';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    this.ctx.informers.for(refs.jobs).addEventHandler({ onAdd: (j) => this.enqueue(j), onUpdate: (_o, j) => this.enqueue(j) });
  }

  async reconcile(key: string): Promise<void> {
    const job = this.ctx.informers.for(refs.jobs).getByKey(key);
    const ttl = (job?.['spec'] as { ttlSecondsAfterFinished?: number } | undefined)?.ttlSecondsAfterFinished;
    if (!job || ttl === undefined || job.metadata?.deletionTimestamp) return;
    const finished = ((job['status'] as { conditions?: FinishedCondition[] } | undefined)?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (!finished?.lastTransitionTime) return;
    const expires = Date.parse(finished.lastTransitionTime) + ttl * 1000;
    const left = expires - this.ctx.clock.now().getTime();
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    try {
      await this.ctx.client.delete(refs.jobs, job.metadata?.namespace ?? '', job.metadata?.name ?? '', { propagationPolicy: 'Background', preconditions: { uid: job.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

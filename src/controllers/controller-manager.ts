import type { Client } from '../client/interface.js';
import { InformerFactory } from '../client/informer.js';
import { ClientEventRecorder, type EventRecorder } from '../client/event-recorder.js';
import { realClock, type Clock } from '../machinery/clock.js';
import type { Logger } from '../machinery/logger.js';
import type { Controller, ControllerContext, ControllerOptions, ControllerRegistry } from './controller.js';

export interface ControllerManagerOptions {
  client: Client;
  registry: ControllerRegistry;
  /** Which controllers to run (default: all registered). */
  enabled?: string[];
  options?: ControllerOptions;
  clock?: Clock;
  log: Logger;
  workers?: number;
  /** Told after every controller's informers have synced and workers run. */
  onStarted?: () => void;
}

/**
 * kube-controller-manager inside `k8ts server`: one shared informer factory, an event recorder
 * per controller, and every registered controller's workers.
 */
export class ControllerManager {
  readonly informers: InformerFactory;
  private readonly controllers: Controller[] = [];
  private readonly recorders = new Map<string, ClientEventRecorder>();

  constructor(private readonly opts: ControllerManagerOptions) {
    this.informers = new InformerFactory(opts.client, { onError: (e) => opts.log.debug('informer relisting', { error: String(e) }) });
  }

  private recorder(component: string): EventRecorder {
    let r = this.recorders.get(component);
    if (!r) this.recorders.set(component, (r = new ClientEventRecorder(this.opts.client, component, '', this.opts.clock ?? realClock)));
    return r;
  }

  /** The context controllers are built with (also used to build the scheduler). */
  context(): ControllerContext {
    return {
      client: this.opts.client,
      informers: this.informers,
      recorder: (c) => this.recorder(c),
      clock: this.opts.clock ?? realClock,
      log: this.opts.log,
      options: this.opts.options ?? {},
    };
  }

  async start(): Promise<void> {
    const ctx = this.context();
    const names = this.opts.enabled ?? this.opts.registry.names();
    for (const name of names) {
      const c = this.opts.registry.create(name, { ...ctx, log: ctx.log.child(name) });
      c.setup();
      this.controllers.push(c);
    }
    await this.informers.start();
    for (const c of this.controllers) c.run(this.opts.workers ?? 2);
    this.opts.onStarted?.();
  }

  stop(): void {
    for (const c of this.controllers) c.stop();
    this.informers.stop();
  }
}

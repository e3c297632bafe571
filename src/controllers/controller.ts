import type { Clock } from '../machinery/clock.js';
import type { Logger } from '../machinery/logger.js';
import type { ApiObject, Client } from '../client/interface.js';
import type { EventRecorder } from '../client/event-recorder.js';
import { keyOf, type InformerFactory } from '../client/informer.js';
import { WorkQueue, runWorker } from '../client/workqueue.js';

/** What every controller is built with. */
export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  recorder: (component: string) => EventRecorder;
  clock: Clock;
  log: Logger;
  /** Flag-driven settings (periods, CIDRs …), by name. */
  options: ControllerOptions;
}

export interface ControllerOptions {
  clusterCIDR?: string;
  nodeCIDRMaskSize?: number;
  serviceCIDR?: string;
  nodeMonitorGracePeriodSeconds?: number;
  podEvictionTimeoutSeconds?: number;
  [name: string]: unknown;
}

/**
 * A level-triggered reconcile loop: event handlers only enqueue keys; `reconcile(key)` reads
 * desired and observed state from informers and acts on the difference; an error requeues the
 * key with backoff; a key is never reconciled by two workers at once.
 */
export abstract class Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue<string>;

  constructor(protected readonly ctx: ControllerContext) {
    this.queue = new WorkQueue<string>({ clock: ctx.clock });
  }

  /** Registers informer handlers (called before informers start). */
  abstract setup(): void;

  /** Brings `key` (`namespace/name`) to its desired state. Throwing requeues it with backoff. */
  abstract reconcile(key: string): Promise<void>;

  enqueue(obj: ApiObject): void {
    this.queue.add(keyOf(obj));
  }

  /** Runs `workers` loops until `stop()`. */
  run(workers = 2): void {
    for (let i = 0; i < workers; i++) void this.worker();
  }

  stop(): void {
    this.queue.shutDown();
  }

  private worker(): Promise<void> {
    return runWorker(this.queue, (key) => this.reconcile(key), (key, e) => this.ctx.log.debug('reconcile failed; retrying', { controller: this.name, key, error: (e as Error).message }));
  }
}

/** Builds a controller; the registry maps names to these. */
export type ControllerConstructor = new (ctx: ControllerContext) => Controller;

/** An explicit name → constructor map that refuses duplicates (nothing registers itself on import). */
export class ControllerRegistry {
  private readonly entries = new Map<string, ControllerConstructor>();

  register(name: string, ctor: ControllerConstructor): this {
    if (this.entries.has(name)) throw new Error(`controller ${name} is already registered`);
    this.entries.set(name, ctor);
    return this;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  create(name: string, ctx: ControllerContext): Controller {
    const ctor = this.entries.get(name);
    if (!ctor) throw new Error(`no controller named ${name}`);
    return new ctor(ctx);
  }
}

import { realClock, type Clock } from '../machinery/clock.js';
import { isConflict, isNotFound, type ApiObject, type Client } from './interface.js';
import { refs } from './informer.js';

export type EventType = 'Normal' | 'Warning';

/** Records what a component did or could not do, as Events that `kubectl describe` shows. */
export interface EventRecorder {
  /** `fieldPath` names the part of the object (`spec.containers{app}`), as the kubelet's events do. */
  event(obj: ApiObject, type: EventType, reason: string, message: string, fieldPath?: string): void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
  at: number;
}

/** How long identical events are folded into one with a growing count (client-go: 10 minutes). */
const aggregationWindowMs = 10 * 60_000;

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Writes core/v1 Events for a component (`source.component`), folding repeats of the same
 * (object, type, reason, message) into one Event with `count` and `lastTimestamp`, as client-go's
 * recorder does. Writes are fire-and-forget: a failure to record never fails the caller.
 */
export class ClientEventRecorder implements EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly component: string,
    private readonly host = '',
    private readonly clock: Clock = realClock,
  ) {}

  event(obj: ApiObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    this.chain = this.chain.then(() => this.write(obj, type, reason, message, fieldPath)).catch(() => undefined);
  }

  /** Resolves when every event recorded so far has been written (for tests and shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(obj: ApiObject, type: EventType, reason: string, message: string, fieldPath?: string): Promise<void> {
    const now = this.clock.now();
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const key = `${meta.uid ?? `${namespace}/${meta.name}`}|${fieldPath ?? ''}|${type}|${reason}|${message}`;
    const prior = this.seen.get(key);
    if (prior && now.getTime() - prior.at < aggregationWindowMs) {
      prior.count++;
      prior.at = now.getTime();
      try {
        const current = await this.client.get(refs.events, prior.namespace, prior.name);
        await this.client.update(refs.events, prior.namespace, { ...current, count: prior.count, lastTimestamp: timestamp(now) });
        return;
      } catch (e) {
        // Gone or changed meanwhile: record a fresh Event rather than lose this one.
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
    // client-go names events `<object>.<unix nanoseconds in hex>`; exact BigInt arithmetic keeps the random low digits.
    const name = `${meta.name ?? 'unknown'}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    const [group, version] = (obj.apiVersion ?? 'v1').includes('/') ? (obj.apiVersion as string).split('/') : ['', obj.apiVersion ?? 'v1'];
    await this.client.create(refs.events, namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: group ? `${group}/${version}` : version,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      type,
      source: this.host ? { component: this.component, host: this.host } : { component: this.component },
      firstTimestamp: timestamp(now),
      lastTimestamp: timestamp(now),
      count: 1,
      reportingComponent: this.component,
      reportingInstance: this.host,
    });
    this.seen.set(key, { name, namespace, count: 1, first: timestamp(now), at: now.getTime() });
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string);
  }
}

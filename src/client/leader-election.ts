import { realClock, type Clock } from '../machinery/clock.js';
import { isNotFound, type ApiObject, type Client } from './interface.js';
import { refs } from './informer.js';

export interface LeaderElectionOptions {
  client: Client;
  /** Where the Lease lives, e.g. `kube-system` / `k8ts-controller-manager`. */
  namespace: string;
  name: string;
  /** This candidate's unique identity (e.g. `hostname_uuid`). */
  identity: string;
  /** How long a lease holds without renewal; followers wait this long (client-go: 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up (client-go: 10 s). */
  renewDeadlineMs?: number;
  /** Interval between acquire/renew attempts (client-go: 2 s). */
  retryPeriodMs?: number;
  /** Clear holderIdentity on `stop()` so a standby takes over at once (default true). */
  releaseOnStop?: boolean;
  clock?: Clock;
  /** Called when this candidate becomes the leader. */
  onStartedLeading?: () => void;
  /** Called when this candidate stops leading (lost the lease, or `stop()` while leading). */
  onStoppedLeading?: () => void;
  /** Called whenever the observed leader changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function specOf(lease: ApiObject): LeaseSpec {
  const spec = lease['spec'];
  return spec && typeof spec === 'object' ? (spec as LeaseSpec) : {};
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's LeaderElector: a candidate
 * takes the lease when it is free or its holder has not renewed it for leaseDuration (measured
 * on this candidate's clock from when it last saw the record change, so clock skew between
 * machines does not matter); the leader renews every retryPeriod and gives up leadership when
 * it could not renew for renewDeadline. Writes use the lease's resourceVersion, so two
 * candidates never both win. Unlike client-go, `run()` keeps competing after a loss until
 * `stop()`, so a standby server returns to standby rather than exiting.
 */
export class LeaderElector {
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private observed: ApiObject | undefined;
  private leader = '';
  private wake: (() => void) | undefined;
  private release: boolean;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.clock = opts.clock ?? realClock;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.release = opts.releaseOnStop !== false;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= this.retryPeriodMs * 1.2) throw new Error('renewDeadline must be greater than retryPeriod*1.2');
  }

  /** Whether this candidate currently holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The identity last seen holding the lease ('' if none). */
  getLeader(): string {
    return this.leader;
  }

  /** Competes for the lease until `stop()`; resolves after stopping (and releasing). */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /**
   * Stops competing; if leading, calls onStoppedLeading and releases the lease unless
   * `release: false` (or `releaseOnStop: false`), in which case a standby waits for it to expire.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return this.running;
    if (opts.release !== undefined) this.release = opts.release;
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      // Acquire: retry every retryPeriod (jittered) until we hold the lease.
      while (!this.stopped && !(await this.tryAcquireOrRenew())) await this.sleep(this.jittered());
      if (this.stopped) break;
      this.setLeading(true);
      // Renew: give up when no renewal succeeded within renewDeadline.
      let lastRenew = this.clock.now().getTime();
      while (!this.stopped) {
        await this.sleep(this.retryPeriodMs);
        if (this.stopped) break;
        const ok = await this.withDeadline(this.tryAcquireOrRenew(), this.renewDeadlineMs);
        const now = this.clock.now().getTime();
        if (ok) lastRenew = now;
        else if (this.leader !== this.opts.identity || now - lastRenew >= this.renewDeadlineMs) break;
      }
      if (!this.stopped) this.setLeading(false);
    }
    // Released even if stop() came between winning the lease and acting on it.
    if (this.release) await this.releaseLease();
    this.setLeading(false);
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (leading) this.opts.onStartedLeading?.();
    else this.opts.onStoppedLeading?.();
  }

  private jittered(): number {
    return this.retryPeriodMs * (1 + Math.random() * 0.2);
  }

  /** Sleeps on the injected clock; `stop()` cuts it short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.clock.after(ms, () => {
        this.wake = undefined;
        resolve();
      });
      this.wake = () => {
        cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  private withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.clock.after(ms, () => resolve(false));
      void p.then((v) => {
        cancel();
        resolve(v);
      });
    });
  }

  private observe(lease: ApiObject): void {
    const spec = specOf(lease);
    const raw = JSON.stringify([spec.holderIdentity ?? '', spec.leaseDurationSeconds, spec.acquireTime, spec.renewTime, spec.leaseTransitions]);
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedTime = this.clock.now().getTime();
    }
    this.observed = lease;
    const holder = spec.holderIdentity ?? '';
    if (holder !== this.leader) {
      this.leader = holder;
      if (holder) this.opts.onNewLeader?.(holder);
    }
  }

  /** One attempt: creates the lease, renews ours, or takes an expired/free one. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.opts;
    const now = this.clock.now();
    const durationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    try {
      let lease: ApiObject;
      try {
        lease = await client.get(refs.leases, namespace, name);
      } catch (e) {
        if (!isNotFound(e)) return false;
        const spec: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
        const created = await client.create(refs.leases, namespace, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });
        this.observe(created);
        return true;
      }
      this.observe(lease);
      const old = specOf(lease);
      const holder = old.holderIdentity ?? '';
      const mine = holder === identity;
      const heldFor = (old.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (holder && !mine && this.observedTime + heldFor > now.getTime()) return false;
      const spec: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && old.acquireTime ? old.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: mine ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
      };
      // resourceVersion in metadata makes this a compare-and-swap: a rival's write wins, ours conflicts.
      const updated = await client.update(refs.leases, namespace, { ...lease, spec: { ...specOf(lease), ...spec } });
      this.observe(updated);
      return true;
    } catch {
      // A conflict means a rival wrote first; anything else is retried next period alike.
      return false;
    }
  }

  /** Clears holderIdentity so another candidate need not wait for the lease to expire. */
  private async releaseLease(): Promise<void> {
    const lease = this.observed;
    if (!lease || specOf(lease).holderIdentity !== this.opts.identity) return;
    const now = microTime(this.clock.now());
    const spec: Record<string, unknown> = { ...specOf(lease), leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
    delete spec['holderIdentity'];
    try {
      const updated = await this.opts.client.update(refs.leases, this.opts.namespace, { ...lease, spec });
      this.observe(updated);
    } catch {
      // Not ours any more or unreachable: the lease expires on its own.
    }
  }
}

/**
 * One probe of one running container, on the kubelet's schedule (pkg/kubelet/prober/worker.go):
 * probe at start and then every periodSeconds (a tick that falls during a slow probe runs right
 * after it, later ones are dropped); nothing before initialDelaySeconds have passed since the
 * container started; the startup probe alone until the container has started, and only the others
 * after; a result changes only after successThreshold successes or failureThreshold failures in a
 * row; a probe that could not run is thrown away; after a liveness or startup failure the worker
 * holds until a new container replaces this one.
 */
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../machinery/clock.js';
import type { ProbeKind, ProbeTarget } from './run-probe.js';
import type { ProbeOutcome, ProbeResult } from './probe-outcome.js';

/** What a worker needs from its manager. */
export interface ProbeWorkerHost {
  clock: Clock;
  run(kind: ProbeKind, probe: Probe, target: ProbeTarget): Promise<ProbeOutcome>;
  /** Whether the container counts as started (its startup probe succeeded, or it has none). */
  started(podUid: string, containerName: string): boolean;
  /** Called for every attempt that ran (events are per attempt, thresholds or not). */
  attempted(worker: ProbeWorker, outcome: ProbeOutcome): void;
  /** Called when the worker's result changes. */
  changed(worker: ProbeWorker, result: ProbeResult): void;
}

/** The value a result has before the first probe decides it, as Kubernetes sets it. */
export function initialResult(kind: ProbeKind): ProbeResult {
  if (kind === 'readiness') return 'failure';
  if (kind === 'liveness') return 'success';
  return 'unknown';
}

export class ProbeWorker {
  result: ProbeResult;
  private lastResult: ProbeResult | undefined;
  private resultRun = 0;
  private onHold = false;
  private stopped = false;
  private probing = false;
  private pending = false;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly host: ProbeWorkerHost,
    readonly kind: ProbeKind,
    readonly probe: Probe,
    public pod: Pod,
    readonly container: Container,
    readonly containerId: string,
    readonly startedAt: Date,
    private readonly target: ProbeTarget,
  ) {
    this.result = initialResult(kind);
  }

  get podUid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  /** Probes now (on the next turn of the clock) and then every periodSeconds. */
  start(): void {
    const periodMs = Math.max(1, this.probe.periodSeconds ?? 10) * 1000;
    const schedule = (delay: number): void => {
      this.cancelTimer = this.host.clock.after(delay, () => {
        if (this.stopped) return;
        schedule(periodMs);
        this.trigger();
      });
    };
    schedule(0);
  }

  /** Runs a probe now, or right after the one in flight (as a buffered ticker or manual trigger does). */
  trigger(): void {
    if (this.stopped) return;
    if (this.probing) {
      this.pending = true;
      return;
    }
    this.probing = true;
    void this.doProbe().finally(() => {
      this.probing = false;
      if (this.pending && !this.stopped) {
        this.pending = false;
        this.trigger();
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }

  private set(result: ProbeResult): void {
    if (this.result === result) return;
    this.result = result;
    this.host.changed(this, result);
  }

  private async doProbe(): Promise<void> {
    if (this.onHold) return;
    // Graceful deletion: liveness and startup stop and report success so nothing restarts a dying container.
    if (this.pod.metadata?.deletionTimestamp && (this.kind === 'liveness' || this.kind === 'startup')) {
      this.set('success');
      this.stop();
      return;
    }
    const sinceStart = Math.floor((this.host.clock.now().getTime() - this.startedAt.getTime()) / 1000);
    if (sinceStart < (this.probe.initialDelaySeconds ?? 0)) return;
    const started = this.host.started(this.podUid, this.container.name);
    if (this.kind === 'startup' ? started : !started) return;

    let outcome: ProbeOutcome;
    try {
      outcome = await this.host.run(this.kind, this.probe, this.target);
    } catch (e) {
      outcome = { result: 'unknown', output: e instanceof Error ? e.message : String(e) };
    }
    if (this.stopped) return;
    this.host.attempted(this, outcome);
    if (outcome.result === 'unknown') return;

    const result = outcome.result;
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    const failureThreshold = this.probe.failureThreshold ?? 3;
    const successThreshold = this.probe.successThreshold ?? 1;
    if ((result === 'failure' && this.resultRun < failureThreshold) || (result === 'success' && this.resultRun < successThreshold)) return;
    this.set(result);
    if ((this.kind === 'liveness' || this.kind === 'startup') && result === 'failure') {
      // The container will be killed; probing it again while it stops only adds noise.
      this.onHold = true;
      this.resultRun = 0;
    }
  }
}

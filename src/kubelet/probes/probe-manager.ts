/**
 * The kubelet's probe manager: a worker per probe of each running container, results kept per
 * container for the pod status (ready, started) and reported on change, and the kubelet's
 * `Unhealthy` / `ProbeWarning` events for every failed, errored or warned attempt.
 */
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../../machinery/clock.js';
import { runProbe, type ProbeKind, type ProbeTarget } from './run-probe.js';
import type { ProbeOutcome, ProbeResult } from './probe-outcome.js';
import { ProbeWorker, type ProbeWorkerHost } from './probe-worker.js';

export interface ProbeManagerOptions {
  clock?: Clock;
  /** A result changed (never called for the initial values set by addContainer). */
  onChange: (podUid: string, containerName: string, kind: ProbeKind, result: ProbeResult) => void;
  /** An event the kubelet records on the pod: `Unhealthy` (Warning) or `ProbeWarning` (Warning). */
  onEvent: (pod: Pod, type: 'Warning' | 'Normal', reason: string, message: string, container: string) => void;
  /** Runs one probe; tests replace it. Default: runProbe. */
  runProbe?: (kind: ProbeKind, probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;
}

interface ContainerProbes {
  containerId: string;
  workers: Map<ProbeKind, ProbeWorker>;
}

const kindLabel: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

function probeOf(container: Container, kind: ProbeKind): Probe | undefined {
  if (kind === 'liveness') return container.livenessProbe;
  if (kind === 'readiness') return container.readinessProbe;
  return container.startupProbe;
}

export class ProbeManager {
  private readonly clock: Clock;
  private readonly containers = new Map<string, ContainerProbes>();
  private readonly host: ProbeWorkerHost;

  constructor(private readonly opts: ProbeManagerOptions) {
    this.clock = opts.clock ?? realClock;
    const run = opts.runProbe ?? runProbe;
    this.host = {
      clock: this.clock,
      run,
      started: (uid, name) => this.result(uid, name, 'startup') === 'success',
      attempted: (w, outcome) => this.recordEvent(w, outcome),
      changed: (w, result) => this.changed(w, result),
    };
  }

  /** Starts workers for a running container (containerId) of a pod; stops old workers of that container. */
  addContainer(pod: Pod, container: Container, containerId: string, startedAt: Date, target: Omit<ProbeTarget, 'pod' | 'container' | 'containerId'>): void {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${container.name}`;
    const old = this.containers.get(key);
    if (old?.containerId === containerId) return;
    if (old) for (const w of old.workers.values()) w.stop();
    const entry: ContainerProbes = { containerId, workers: new Map() };
    this.containers.set(key, entry);
    const fullTarget: ProbeTarget = { ...target, pod, container, containerId };
    for (const kind of ['startup', 'readiness', 'liveness'] as const) {
      const probe = probeOf(container, kind);
      if (!probe) continue;
      entry.workers.set(kind, new ProbeWorker(this.host, kind, probe, pod, container, containerId, startedAt, fullTarget));
    }
    for (const w of entry.workers.values()) w.start();
  }

  /** A newer version of the pod (e.g. with a deletionTimestamp, which quiets liveness and startup probes). */
  updatePod(pod: Pod): void {
    const prefix = `${pod.metadata?.uid ?? ''}/`;
    for (const [key, entry] of this.containers) {
      if (!key.startsWith(prefix)) continue;
      for (const w of entry.workers.values()) w.pod = pod;
    }
  }

  removeContainer(podUid: string, containerName: string): void {
    const key = `${podUid}/${containerName}`;
    const entry = this.containers.get(key);
    if (!entry) return;
    for (const w of entry.workers.values()) w.stop();
    this.containers.delete(key);
  }

  removePod(podUid: string): void {
    const prefix = `${podUid}/`;
    for (const key of [...this.containers.keys()]) {
      if (key.startsWith(prefix)) this.removeContainer(podUid, key.slice(prefix.length));
    }
  }

  /**
   * Current result, for pod status (ready/started): undefined for a container never added (or
   * removed); `success` for a kind the container has no probe of; otherwise the worker's result —
   * readiness starts `failure`, liveness `success`, startup `unknown` (not started) until probed.
   */
  result(podUid: string, containerName: string, kind: ProbeKind): ProbeResult | undefined {
    const entry = this.containers.get(`${podUid}/${containerName}`);
    if (!entry) return undefined;
    return entry.workers.get(kind)?.result ?? 'success';
  }

  stop(): void {
    for (const entry of this.containers.values()) for (const w of entry.workers.values()) w.stop();
    this.containers.clear();
  }

  private current(w: ProbeWorker): boolean {
    return this.containers.get(`${w.podUid}/${w.container.name}`)?.workers.get(w.kind) === w;
  }

  private recordEvent(w: ProbeWorker, outcome: ProbeOutcome): void {
    if (!this.current(w)) return;
    const label = kindLabel[w.kind];
    if (outcome.result === 'unknown') this.opts.onEvent(w.pod, 'Warning', 'Unhealthy', `${label} probe errored and resulted in unknown state: ${outcome.output}`, w.container.name ?? '');
    else if (outcome.result === 'failure') this.opts.onEvent(w.pod, 'Warning', 'Unhealthy', `${label} probe failed: ${outcome.output}`, w.container.name ?? '');
    else if (outcome.warning) this.opts.onEvent(w.pod, 'Warning', 'ProbeWarning', `${label} probe warning: ${outcome.output}`, w.container.name ?? '');
  }

  private changed(w: ProbeWorker, result: ProbeResult): void {
    if (!this.current(w)) return;
    this.opts.onChange(w.podUid, w.container.name, w.kind, result);
    // Once started, readiness need not wait for its next period (the kubelet triggers it on the status update).
    if (w.kind === 'startup' && result === 'success') {
      this.containers.get(`${w.podUid}/${w.container.name}`)?.workers.get('readiness')?.trigger();
    }
  }
}

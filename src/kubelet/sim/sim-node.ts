/**
 * One simulated node (what KWOK does, built in): a kubelet whose containers are pretend. It
 * registers and heartbeats its Node, and drives each pod bound to it as a kubelet would:
 * Pending (ContainerCreating) → Running and Ready with an IP from the node's podCIDR → for
 * run-to-completion pods, Succeeded or Failed; crashing containers restart with CrashLoopBackOff;
 * deleted pods are stopped and then removed. Annotations on the pod steer it (`simAnnotations`).
 */
import { createHash } from 'node:crypto';
import { ApiError, isNotFound, type ApiObject, type Client } from '../../client/interface.js';
import { keyOf, refs, SharedInformer } from '../../client/informer.js';
import { WorkQueue, runWorker } from '../../client/workqueue.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import { realClock, type Clock } from '../../machinery/clock.js';
import { deepEqual } from '../../machinery/json-value.js';
import { NodeStatusReporter, type NodeResources, type NodeStatusOptions } from '../node-status.js';
import { buildPodStatus, formatDelay, normalizeImage, type ContainerView, type PodView, type Termination } from '../pod-status.js';
import { PodIPAllocator } from './pod-ip-allocator.js';
import { NODE_NAME_INDEX, SIM_INSTANCE_TYPE, simAnnotations, indexPodsByNode } from './sim-metrics.js';

/** How long the simulated steps take. */
export interface SimTimings {
  /** From seeing a pod to its containers running (sandbox, image pull); 0 = at once, in one status write. Default 500 ms. */
  startDelayMs?: number;
  /** How long each init container runs. Default 200 ms. */
  initContainerRunMs?: number;
  /** How long containers of Never/OnFailure pods run, unless `sim.k8ts.io/run-seconds` says. Default 1 s. */
  runMs?: number;
  /** How long stopping a deleted pod's containers takes (capped by its grace period). Default 100 ms. */
  terminateDelayMs?: number;
  /** CrashLoopBackOff: first delay after the immediate first restart, doubling (kubelet: 10 s, max 5 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface SimNodeOptions extends SimTimings {
  name: string;
  /** Defaults: 8 CPU, 32Gi memory, 110 pods, 100Gi ephemeral storage. */
  capacity?: Partial<NodeResources>;
  internalIP: string;
  labels?: Record<string, string>;
  taints?: NodeStatusOptions['taints'];
  clock?: Clock;
  statusUpdateFrequencyMs?: number;
  statusReportFrequencyMs?: number;
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  /** Delay of the first heartbeat (spreads many nodes). */
  initialDelayMs?: number;
  /**
   * A pod informer shared with other sim nodes (its owner calls `podChanged`/`podDeleted` and
   * `nodeChanged`); without it the node watches its own pods (`spec.nodeName=<name>`) and Node.
   */
  shared?: { pods: SharedInformer; nodes: SharedInformer };
  /** Used when the Node has no spec.podCIDR yet; without it pods wait in ContainerCreating. */
  defaultPodCIDR?: string;
  /** Pod workers of this node (default 2). */
  workers?: number;
  /** Records kubelet events (Pulled, Created, Started, BackOff, Killing); none when absent. */
  recorder?: EventRecorder;
  onError?: (err: unknown, what: string) => void;
}

/** The Ready condition's message of a kubelet whose pod network is not configured (kubelet's wording). */
export const networkNotReady = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

export const DEFAULT_SIM_CAPACITY: NodeResources = { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' };

type ContainerState = ContainerView['state'];


interface ContainerRun {
  name: string;
  image: string;
  init: boolean;
  /** An init container with restartPolicy Always. */
  sidecar: boolean;
  state: ContainerState;
  waitingReason: string;
  waitingMessage?: string;
  containerID: string;
  startedAt: number;
  readyAt: number;
  /** When a running container exits by itself (Infinity: never). */
  finishAt: number;
  /** When a waiting (backing-off) container may start. */
  nextStartAt: number;
  restartCount: number;
  /** The run that ended, while terminated. */
  terminated?: Termination;
  last?: Termination;
}

interface PodRun {
  uid: string;
  acceptedAt: number;
  sandboxAt?: number;
  ip?: string;
  containers: ContainerRun[];
  stopAt?: number;
  deleteSent: boolean;
  cancelWake?: () => void;
  wakeAt?: number;
  /** The status we last wrote, to not rewrite what the server normalised. */
  lastWritten?: unknown;
  ipReleased: boolean;
}

interface ContainerSpec {
  name?: string;
  image?: string;
  restartPolicy?: string;
  readinessProbe?: { initialDelaySeconds?: number };
}

interface PodSpec {
  nodeName?: string;
  restartPolicy?: string;
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  readinessGates?: Array<{ conditionType?: string }>;
}


function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function imageIDOf(image: string): string {
  const n = normalizeImage(image);
  if (n.includes('@')) return n;
  return `${n.replace(/:[^/:]+$/, '')}@sha256:${sha256(n)}`;
}

/**
 * A simulated kubelet for one node. `start()` registers the Node and begins; `stop()` makes it
 * go silent (no heartbeats, pods frozen) as a crashed machine would; `resume()` brings it back;
 * `close()` ends it for good. The `sim.k8ts.io/stopped: "true"` annotation on the Node does the
 * same as stop/resume.
 */
export class SimNode {
  readonly name: string;
  readonly reporter: NodeStatusReporter;
  private readonly clock: Clock;
  private readonly queue: WorkQueue<string>;
  private readonly runs = new Map<string, PodRun>();
  private readonly pods: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly ownInformers: boolean;
  private allocator: PodIPAllocator | undefined;
  private stoppedBy: 'method' | 'annotation' | undefined;
  private started = false;
  private closed = false;
  private readonly timings: Required<SimTimings>;
  /** Counts of API writes for pods, for tests and benchmarks. */
  readonly writes = { podStatus: 0, podDelete: 0 };

  constructor(
    private readonly client: Client,
    private readonly opts: SimNodeOptions,
  ) {
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.timings = {
      startDelayMs: opts.startDelayMs ?? 500,
      initContainerRunMs: opts.initContainerRunMs ?? 200,
      runMs: opts.runMs ?? 1000,
      terminateDelayMs: opts.terminateDelayMs ?? 100,
      backoffBaseMs: opts.backoffBaseMs ?? 10_000,
      backoffMaxMs: opts.backoffMaxMs ?? 300_000,
    };
    this.queue = new WorkQueue<string>({ clock: this.clock });
    if (opts.shared) {
      this.pods = opts.shared.pods;
      this.nodes = opts.shared.nodes;
      this.ownInformers = false;
    } else {
      this.pods = new SharedInformer(client, refs.pods, { fieldSelector: `spec.nodeName=${opts.name}` });
      this.nodes = new SharedInformer(client, refs.nodes, { fieldSelector: `metadata.name=${opts.name}` });
      this.ownInformers = true;
    }
    indexPodsByNode(this.pods);
    this.reporter = new NodeStatusReporter(client, {
      nodeName: opts.name,
      capacity: { ...DEFAULT_SIM_CAPACITY, ...(opts.capacity as NodeResources | undefined) },
      internalIP: opts.internalIP,
      labels: { 'node.kubernetes.io/instance-type': SIM_INSTANCE_TYPE, ...opts.labels },
      taints: opts.taints,
      nodeInfo: {
        containerRuntimeVersion: 'sim://0.1',
        osImage: 'k8ts simulated node',
        kernelVersion: 'sim',
        machineID: sha256(`machine/${opts.name}`).slice(0, 32),
        systemUUID: sha256(`uuid/${opts.name}`).slice(0, 32),
        bootID: sha256(`boot/${opts.name}`).slice(0, 32),
      },
      clock: this.clock,
      statusUpdateFrequencyMs: opts.statusUpdateFrequencyMs,
      statusReportFrequencyMs: opts.statusReportFrequencyMs,
      leaseRenewIntervalMs: opts.leaseRenewIntervalMs,
      leaseDurationSeconds: opts.leaseDurationSeconds,
      initialDelayMs: opts.initialDelayMs,
      // As a kubelet whose CNI has no config yet: no pod range, no Ready (so nothing is scheduled here).
      notReadyReason: () => (this.allocator ? undefined : networkNotReady),
      nodeLister: (n) => this.nodes.get('', n),
      onError: opts.onError,
    });
  }

  /** True while heartbeats and pods are stopped. */
  get stopped(): boolean {
    return this.stoppedBy !== undefined;
  }

  /** The pod IP range in use (the Node's podCIDR once seen). */
  get podCIDR(): string | undefined {
    return this.allocator?.cidr;
  }

  /** Registers the Node, starts heartbeats and pod workers (and, when not shared, its informers). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (!this.stopped) await this.reporter.start();
    if (this.ownInformers) {
      this.nodes.addEventHandler({ onAdd: (n) => this.nodeChanged(n), onUpdate: (_o, n) => this.nodeChanged(n) });
      this.pods.addEventHandler({ onAdd: (p) => this.podChanged(p), onUpdate: (_o, p) => this.podChanged(p), onDelete: (p) => this.podDeleted(p) });
      await Promise.all([this.nodes.start(), this.pods.start()]);
    } else {
      const node = this.nodes.get('', this.name) ?? this.reporter.lastNode;
      if (node) this.nodeChanged(node);
      for (const p of this.pods.byIndex(NODE_NAME_INDEX, this.name)) this.podChanged(p);
    }
    const workers = this.opts.workers ?? 2;
    for (let i = 0; i < workers; i++) void this.worker();
  }

  /** The kubelet goes silent: no heartbeats, no status updates, pods frozen as they are. */
  stop(): void {
    this.stoppedBy ??= 'method';
    this.reporter.stop();
    for (const run of this.runs.values()) run.cancelWake?.();
  }

  /** Comes back after `stop()`: registers again, heartbeats, and catches up with its pods. */
  async resume(): Promise<void> {
    if (!this.stoppedBy || this.closed) return;
    this.stoppedBy = undefined;
    await this.reporter.start();
    for (const p of this.pods.byIndex(NODE_NAME_INDEX, this.name)) this.queue.add(keyOf(p));
  }

  /** Ends this node's work for good (the Node object stays). */
  close(): void {
    this.closed = true;
    this.reporter.stop();
    this.queue.shutDown();
    for (const run of this.runs.values()) run.cancelWake?.();
    if (this.ownInformers) {
      this.pods.stop();
      this.nodes.stop();
    }
  }

  /** A pod bound to this node was added or changed. */
  podChanged(pod: ApiObject): void {
    if (this.stopped || this.closed) return;
    this.queue.add(keyOf(pod));
  }

  /** A pod bound to this node is gone: its IP is released at once. */
  podDeleted(pod: ApiObject): void {
    const key = keyOf(pod);
    const run = this.runs.get(key);
    if (run && run.uid === pod.metadata?.uid) this.forget(key, run);
    if (!this.stopped && !this.closed) this.queue.add(key);
  }

  /** This node's Node object changed: podCIDR and the stopped annotation matter. */
  nodeChanged(node: ApiObject): void {
    if (node.metadata?.name !== this.name || this.closed) return;
    const stopWanted = node.metadata?.annotations?.[simAnnotations.stopped] === 'true';
    if (stopWanted && !this.stoppedBy) {
      this.stoppedBy = 'annotation';
      this.stop();
      return;
    }
    if (!stopWanted && this.stoppedBy === 'annotation') {
      void this.resume().catch((e: unknown) => this.opts.onError?.(e, 'resume'));
      return;
    }
    const spec = (node['spec'] ?? {}) as { podCIDR?: string };
    const cidr = spec.podCIDR ?? this.opts.defaultPodCIDR;
    if (cidr && this.allocator?.cidr !== cidr) {
      const first = !this.allocator;
      this.allocator = new PodIPAllocator(cidr);
      // Ready now: say so at once rather than at the next status tick.
      if (first && !this.stopped) void this.reporter.syncStatus(true).catch((e: unknown) => this.opts.onError?.(e, 'status'));
      for (const [key, run] of this.runs) {
        if (run.ip && !run.ipReleased && !this.allocator.reserve(run.uid, run.ip)) run.ip = undefined;
        this.queue.add(key);
      }
      for (const p of this.pods.byIndex(NODE_NAME_INDEX, this.name)) this.queue.add(keyOf(p));
    }
  }

  /** How many pods this node is currently running or tracking. */
  get trackedPods(): number {
    return this.runs.size;
  }

  private worker(): Promise<void> {
    return runWorker(this.queue, (key) => this.sync(key), (key, e) => this.opts.onError?.(e, `pod ${key}`));
  }

  private forget(key: string, run: PodRun): void {
    run.cancelWake?.();
    this.allocator?.release(run.uid);
    this.runs.delete(key);
  }

  private wake(key: string, run: PodRun, at: number): void {
    if (run.wakeAt === at && run.cancelWake) return;
    run.cancelWake?.();
    run.wakeAt = at;
    run.cancelWake = this.clock.after(Math.max(0, at - this.clock.now().getTime()), () => {
      run.cancelWake = undefined;
      run.wakeAt = undefined;
      if (!this.stopped && !this.closed) this.queue.add(key);
    });
  }

  /** Brings one pod a step further and writes its status when it changed. */
  private async sync(key: string): Promise<void> {
    if (this.stopped || this.closed) return;
    let pod = this.pods.getByKey(key);
    let run = this.runs.get(key);
    if (!pod || (pod['spec'] as PodSpec | undefined)?.nodeName !== this.name) {
      if (run) this.forget(key, run);
      return;
    }
    if (run && run.uid !== pod.metadata?.uid) {
      this.forget(key, run);
      run = undefined;
    }
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    if (!run) {
      if ((phase === 'Succeeded' || phase === 'Failed') && !pod.metadata?.deletionTimestamp) return;
      run = this.newRun(pod);
      this.runs.set(key, run);
    }
    for (let attempt = 0; ; attempt++) {
      const now = this.clock.now().getTime();
      const next = this.advance(pod, run, now);
      const status = this.buildStatus(pod, run, now);
      const current = pod['status'];
      const terminal = status['phase'] === 'Succeeded' || status['phase'] === 'Failed';
      if (terminal && !run.ipReleased) {
        // The sandbox is gone once the pod finished; its IP may go to another pod.
        this.allocator?.release(run.uid);
        run.ipReleased = true;
      }
      const beingDeleted = !!pod.metadata?.deletionTimestamp;
      const neverStarted = run.sandboxAt === undefined || run.sandboxAt > now;
      if (beingDeleted && neverStarted) break;
      if (!deepEqual(status, current) && !deepEqual(status, run.lastWritten)) {
        try {
          pod = await this.client.update(refs.pods, pod.metadata?.namespace ?? '', { ...pod, status }, { subresource: 'status' });
          this.writes.podStatus++;
          run.lastWritten = status;
        } catch (e) {
          if (isNotFound(e)) {
            this.forget(key, run);
            return;
          }
          if (!(e instanceof ApiError && e.code === 409) || attempt >= 5) throw e;
          pod = await this.client.get(refs.pods, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
          if (pod.metadata?.uid !== run.uid) return this.sync(key);
          continue;
        }
      }
      if (next !== undefined) this.wake(key, run, next);
      break;
    }
    await this.finishDeletion(key, pod, run);
  }

  /** Deletes a pod marked for deletion once its containers stopped (grace period 0: gone for good). */
  private async finishDeletion(key: string, pod: ApiObject, run: PodRun): Promise<void> {
    const meta = pod.metadata;
    if (!meta?.deletionTimestamp || run.deleteSent) return;
    const now = this.clock.now().getTime();
    const stopped = run.sandboxAt === undefined || run.sandboxAt > now || run.containers.every((c) => c.state !== 'running');
    if (!stopped) return;
    if (meta['deletionGracePeriodSeconds'] === 0 && (meta.finalizers?.length ?? 0) > 0) return;
    try {
      await this.client.delete(refs.pods, meta.namespace ?? '', meta.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: run.uid } });
      this.writes.podDelete++;
      run.deleteSent = true;
    } catch (e) {
      if (isNotFound(e) || (e instanceof ApiError && e.code === 409)) {
        this.forget(key, run);
        return;
      }
      throw e;
    }
  }

  private newRun(pod: ApiObject): PodRun {
    const spec = (pod['spec'] ?? {}) as PodSpec;
    const uid = pod.metadata?.uid ?? '';
    const now = this.clock.now().getTime();
    const make = (c: ContainerSpec, init: boolean): ContainerRun => ({
      name: c.name ?? '',
      image: c.image ?? '',
      init,
      sidecar: init && c.restartPolicy === 'Always',
      state: 'waiting',
      waitingReason: (spec.initContainers?.length ?? 0) > 0 ? 'PodInitializing' : 'ContainerCreating',
      containerID: '',
      startedAt: 0,
      readyAt: 0,
      finishAt: Infinity,
      nextStartAt: 0,
      restartCount: 0,
    });
    const run: PodRun = {
      uid,
      acceptedAt: now,
      containers: [...(spec.initContainers ?? []).map((c) => make(c, true)), ...(spec.containers ?? []).map((c) => make(c, false))],
      deleteSent: false,
      ipReleased: false,
    };
    this.adopt(pod, run);
    return run;
  }

  /** A pod already running before this process started (restart): take its state from its status. */
  private adopt(pod: ApiObject, run: PodRun): void {
    const status = (pod['status'] ?? {}) as {
      phase?: string;
      podIP?: string;
      startTime?: string;
      containerStatuses?: Array<Record<string, unknown>>;
      initContainerStatuses?: Array<Record<string, unknown>>;
    };
    if (status.phase !== 'Running' || !status.startTime) return;
    const started = Date.parse(status.startTime);
    run.acceptedAt = started;
    run.sandboxAt = started;
    const spec = (pod['spec'] ?? {}) as PodSpec;
    if (status.podIP) {
      run.ip = status.podIP;
      if (!spec.hostNetwork && this.allocator && !this.allocator.reserve(run.uid, status.podIP)) run.ip = undefined;
    }
    const byName = new Map<string, Record<string, unknown>>();
    for (const cs of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) byName.set(String(cs['name']), cs);
    const now = this.clock.now().getTime();
    for (const c of run.containers) {
      const cs = byName.get(c.name);
      if (!cs) continue;
      const state = (cs['state'] ?? {}) as { running?: { startedAt?: string }; terminated?: { exitCode?: number; reason?: string; startedAt?: string; finishedAt?: string; containerID?: string } };
      c.restartCount = typeof cs['restartCount'] === 'number' ? cs['restartCount'] : 0;
      c.containerID = typeof cs['containerID'] === 'string' ? cs['containerID'] : '';
      if (state.running) {
        c.state = 'running';
        c.startedAt = state.running.startedAt ? Date.parse(state.running.startedAt) : now;
        c.readyAt = cs['ready'] === true ? c.startedAt : this.readyAt(pod, c, c.startedAt);
        c.finishAt = this.finishAt(pod, c, c.startedAt);
      } else if (state.terminated) {
        const tm = state.terminated;
        c.state = 'terminated';
        c.terminated = {
          exitCode: tm.exitCode ?? 0,
          reason: tm.reason ?? 'Completed',
          startedAt: tm.startedAt ? Date.parse(tm.startedAt) : now,
          finishedAt: tm.finishedAt ? Date.parse(tm.finishedAt) : now,
          containerID: tm.containerID ?? c.containerID,
        };
        if (!c.init && this.restarts(pod, c.terminated.exitCode)) {
          c.state = 'waiting';
          c.last = c.terminated;
          c.terminated = undefined;
          c.nextStartAt = now;
        }
      } else {
        c.state = 'waiting';
        c.nextStartAt = now;
      }
    }
  }

  private annotation(pod: ApiObject, name: string): string | undefined {
    return pod.metadata?.annotations?.[name];
  }

  private exitCodeOf(pod: ApiObject): number {
    const v = Number(this.annotation(pod, simAnnotations.exitCode) ?? '0');
    return Number.isInteger(v) ? v : 1;
  }

  /** When a container started at `start` exits by itself. */
  private finishAt(pod: ApiObject, c: ContainerRun, start: number): number {
    if (c.init) return c.sidecar ? Infinity : start + this.timings.initContainerRunMs;
    const policy = ((pod['spec'] ?? {}) as PodSpec).restartPolicy ?? 'Always';
    const runText = this.annotation(pod, simAnnotations.runSeconds);
    const exitText = this.annotation(pod, simAnnotations.exitCode);
    // Long-running pods run forever unless told to exit.
    if (policy === 'Always' && runText === undefined && exitText === undefined) return Infinity;
    const seconds = runText !== undefined ? Number(runText) : NaN;
    return start + (Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : this.timings.runMs);
  }

  private readyAt(pod: ApiObject, c: ContainerRun, start: number): number {
    const spec = (pod['spec'] ?? {}) as PodSpec;
    const cs = (c.init ? spec.initContainers : spec.containers)?.find((x) => x.name === c.name);
    const delay = cs?.readinessProbe?.initialDelaySeconds ?? 0;
    return start + delay * 1000;
  }

  private restarts(pod: ApiObject, exitCode: number): boolean {
    const policy = ((pod['spec'] ?? {}) as PodSpec).restartPolicy ?? 'Always';
    return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
  }

  private startContainer(pod: ApiObject, run: PodRun, c: ContainerRun, now: number): void {
    if (c.state === 'terminated' && c.terminated) c.last = c.terminated;
    const restarting = c.startedAt > 0;
    if (restarting) c.restartCount++;
    c.state = 'running';
    c.terminated = undefined;
    c.startedAt = now;
    c.containerID = `sim://${sha256(`${run.uid}/${c.name}/${c.restartCount}`)}`;
    c.readyAt = this.readyAt(pod, c, now);
    c.finishAt = this.finishAt(pod, c, now);
    this.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`);
    this.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    this.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
  }

  private event(pod: ApiObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.opts.recorder?.event(pod, type, reason, message);
  }

  /**
   * Moves the pod's simulated containers to where they are at `now`; returns when something
   * next happens by itself (undefined: nothing will).
   */
  private advance(pod: ApiObject, run: PodRun, now: number): number | undefined {
    const spec = (pod['spec'] ?? {}) as PodSpec;
    let next = Infinity;
    const soon = (at: number): void => {
      const when = Math.max(at, now + 1);
      if (when < next) next = when;
    };
    const deleting = !!pod.metadata?.deletionTimestamp;
    if (deleting) {
      if (run.stopAt === undefined) {
        const meta = pod.metadata as Record<string, unknown>;
        const grace = typeof meta['deletionGracePeriodSeconds'] === 'number' ? meta['deletionGracePeriodSeconds'] : (spec.terminationGracePeriodSeconds ?? 30);
        run.stopAt = now + Math.min(this.timings.terminateDelayMs, grace * 1000);
        if (run.containers.some((c) => c.state === 'running')) {
          for (const c of run.containers) if (c.state === 'running') this.event(pod, 'Normal', 'Killing', `Stopping container ${c.name}`);
        }
      }
      if (now >= run.stopAt) {
        for (const c of run.containers) {
          if (c.state !== 'running') continue;
          c.state = 'terminated';
          // A process stopped by SIGTERM exits 143 (128 + 15) as the real kubelet reports it, so a
          // deleted pod ends Failed and a Job does not count it as a success.
          c.terminated = { exitCode: 143, reason: 'Error', startedAt: c.startedAt, finishedAt: now, containerID: c.containerID };
        }
        return undefined;
      }
      soon(run.stopAt);
      return next;
    }

    if (run.sandboxAt === undefined) {
      const ready = run.acceptedAt + this.timings.startDelayMs;
      if (now < ready) return ready;
      if (spec.hostNetwork) run.ip = this.opts.internalIP;
      else {
        const ip = this.allocator?.allocate(run.uid);
        if (!ip) return undefined; // no podCIDR yet (or full): nodeChanged wakes us
        run.ip = ip;
      }
      run.sandboxAt = now;
    }

    // Init containers, in order; regular ones only after all are done (sidecars: started).
    let initDone = true;
    for (const c of run.containers) {
      if (!c.init) continue;
      if (c.state === 'waiting') {
        if (c.nextStartAt > now) {
          soon(c.nextStartAt);
          initDone = false;
          break;
        }
        this.startContainer(pod, run, c, now);
      }
      if (c.state === 'running' && now >= c.finishAt) {
        c.state = 'terminated';
        c.terminated = { exitCode: 0, reason: 'Completed', startedAt: c.startedAt, finishedAt: c.finishAt, containerID: c.containerID };
      }
      if (c.sidecar && c.state === 'running') continue;
      if (c.state === 'terminated') continue;
      soon(c.finishAt);
      initDone = false;
      break;
    }
    if (!initDone) return next === Infinity ? undefined : next;

    for (const c of run.containers) {
      if (c.init) continue;
      for (let guard = 0; guard < 3; guard++) {
        if (c.state === 'waiting') {
          if (c.nextStartAt > now) {
            soon(c.nextStartAt);
            break;
          }
          this.startContainer(pod, run, c, now);
        }
        if (c.state === 'running') {
          if (now < c.finishAt) {
            if (c.finishAt !== Infinity) soon(c.finishAt);
            if (c.readyAt > now) soon(c.readyAt);
            break;
          }
          const exitCode = this.exitCodeOf(pod);
          c.state = 'terminated';
          c.terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: c.startedAt, finishedAt: Math.max(c.startedAt, Math.min(now, c.finishAt)), containerID: c.containerID };
        }
        if (c.state === 'terminated' && c.terminated) {
          if (!this.restarts(pod, c.terminated.exitCode)) break;
          // kubelet restarts a container at once the first time, then backs off 10 s, 20 s … 5 min.
          const delay = c.restartCount === 0 ? 0 : Math.min(this.timings.backoffMaxMs, this.timings.backoffBaseMs * 2 ** (c.restartCount - 1));
          c.last = c.terminated;
          c.terminated = undefined;
          c.state = 'waiting';
          c.nextStartAt = c.last.finishedAt + delay;
          if (delay > 0) {
            c.waitingReason = 'CrashLoopBackOff';
            c.waitingMessage = `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${run.uid})`;
            // kubelet names the container and the pod as format.Pod does: name_namespace(uid).
            this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${run.uid})`);
          }
        }
      }
      if (c.state === 'waiting') soon(c.nextStartAt);
    }
    return next === Infinity ? undefined : next;
  }

  /** The pod's status as a kubelet would write it for the simulated state at `now`. */
  private buildStatus(pod: ApiObject, run: PodRun, now: number): Record<string, unknown> {
    const sandbox = run.sandboxAt !== undefined && run.sandboxAt <= now;
    const apps = run.containers.filter((c) => !c.init);
    const view: PodView = {
      sandboxReady: sandbox,
      podIPs: sandbox && run.ip ? [run.ip] : [],
      hostIP: this.opts.internalIP,
      acceptedAt: run.acceptedAt,
      stoppedForDeletion: !!pod.metadata?.deletionTimestamp && run.stopAt !== undefined && now >= run.stopAt && sandbox && apps.every((c) => c.state === 'terminated'),
      containers: run.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: c.startedAt > 0 ? imageIDOf(c.image) : '',
        init: c.init,
        sidecar: c.sidecar,
        state: c.state,
        waitingReason: c.waitingReason,
        waitingMessage: c.waitingReason === 'CrashLoopBackOff' ? c.waitingMessage : undefined,
        containerID: c.containerID || undefined,
        startedAt: c.startedAt,
        terminated: c.terminated,
        last: c.last,
        ready: c.state === 'running' && now >= c.readyAt,
        started: c.state === 'running',
        restartCount: c.restartCount,
      })),
    };
    return buildPodStatus(pod, view, now);
  }
}


/**
 * One pod brought to its desired state through the CRI, level-triggered: the kubelet calls
 * `sync(pod)` whenever the pod or its containers change and `kill(pod)` when it must stop. State
 * lives in the runtime (sandboxes and containers carry the pod's uid and the container's name and
 * attempt in their labels), so a restarted kubelet picks up running pods without restarting them.
 */
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiObject, Client } from '../client/interface.js';
import { isNotFound } from '../client/interface.js';
import { refs } from '../client/informer.js';
import type { EventRecorder } from '../client/event-recorder.js';
import type { Logger } from '../machinery/logger.js';
import { deepEqual } from '../machinery/json-value.js';
import type { CriClient } from './cri/cri-client.js';
import { buildPodStatus, formatDelay, type ContainerView, type PodView, type Termination } from './pod-status.js';
import { ImageError, type ImageManager } from './image-manager.js';
import { containerEnv, ContainerConfigError, type EnvSources } from './container-env.js';
import { containerConfig, labels, podSandboxConfig } from './container-config.js';
import type { VolumeManager } from './volumes/volume-manager.js';
import type { ProbeManager } from './probes/probe-manager.js';
import { runLifecycleHook } from './lifecycle-hooks.js';

/** The kubelet gives no postStart hook a deadline; this one only keeps a stuck hook from holding a pod worker forever. */
const POST_START_TIMEOUT_SECONDS = 300;
/** After a preStop hook the container still gets this much time to stop (kubelet: minimumGracePeriodInSeconds). */
const MIN_GRACE_AFTER_HOOK_SECONDS = 2;

/** A pod's container or init container by name. */
function containerSpec(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

/** Where a container sits in its pod, as the kubelet's events name it: `spec.containers{app}`. */
export function containerFieldPath(pod: Pod, container: string): string {
  const list = (pod.spec?.initContainers ?? []).some((c) => c.name === container) ? 'initContainers' : 'containers';
  return `spec.${list}{${container}}`;
}


interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  state: string;
  labels: Record<string, string>;
}

interface CriContainerStatus {
  id: string;
  metadata: { name: string; attempt: number };
  state: string;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  imageRef: string;
  reason: string;
  message: string;
}

/** A sandbox's containers by name: the newest run, the one before it, and ids of older ones. */
type ContainersByName = Map<string, { latest: CriContainerStatus; previous?: CriContainerStatus; older: string[] }>;

interface CriSandbox {
  id: string;
  metadata: { name: string; uid: string; namespace: string; attempt: number };
  state: string;
  createdAt: string;
  labels: Record<string, string>;
}

/**
 * runc creates the pod's cgroup (`/kubepods[/qos]/pod<uid>`) under every controller but nobody
 * removes it; the kubelet does once the pod is gone. Empty directories only, so a leftover
 * process keeps its cgroup.
 */
function removePodCgroups(uid: string): void {
  if (!uid) return;
  const root = '/sys/fs/cgroup';
  let controllers: string[];
  try {
    controllers = readdirSync(root);
  } catch {
    return;
  }
  for (const ctrl of ['', ...controllers]) {
    for (const parent of ['kubepods', 'kubepods/burstable', 'kubepods/besteffort']) {
      try {
        rmdirSync(join(root, ctrl, parent, `pod${uid}`));
      } catch {
        // not there, not a directory, or not empty
      }
    }
  }
}

const ns2ms = (ns: string | undefined): number => Math.floor(Number(BigInt(ns || '0') / 1_000_000n));

/** What the node knows about itself that pods need. */
export interface NodeFacts {
  nodeName: string;
  hostIP: string;
  allocatable: { cpu: string; memory: string };
  clusterDNS: string[];
  clusterDomain: string;
  podLogsDir: string;
}

export interface PodSyncOptions {
  client: Client;
  cri: CriClient;
  images: ImageManager;
  volumes: VolumeManager;
  probes: ProbeManager;
  envSources: EnvSources;
  recorder?: EventRecorder;
  node: NodeFacts;
  log: Logger;
  now?: () => number;
  /** Asks for another sync of the pod at (or after) `at` (back-offs ending). */
  requeueAt: (pod: Pod, at: number) => void;
  /** The API object a pod's status is written to: itself, or a static pod's mirror (none yet: undefined). */
  statusTarget?: (pod: Pod) => Pod | undefined;
}

interface Backoff {
  delayMs: number;
  finishedAt: number;
}

/** Why a container waits before it can be created, kept until it changes. */
interface Waiting {
  reason: string;
  message?: string;
}

const initialBackoffMs = 10_000;
const maxBackoffMs = 300_000;

export class PodSync {
  private readonly now: () => number;
  private readonly accepted = new Map<string, number>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly waiting = new Map<string, Waiting>();
  /** Containers the kubelet decided to kill (failed liveness/startup), by container id. */
  private readonly toKill = new Map<string, string>();
  /** Pods whose volumes failed to set up: their sandbox waits for them (see volumesAndSandbox). */
  private readonly volumesFailed = new Set<string>();
  /** When a pod whose sandbox or volumes failed gets its next try. */
  private readonly retryAt = new Map<string, number>();
  /** The status last written per pod uid, so unchanged status is not rewritten. */
  private readonly written = new Map<string, unknown>();

  constructor(private readonly o: PodSyncOptions) {
    this.now = o.now ?? Date.now;
  }

  /** An event about the pod, or with `container` about one of its containers (`spec.containers{name}`). */
  private event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    this.o.recorder?.event({ apiVersion: 'v1', kind: 'Pod', ...(pod as object) } as never, type, reason, message, container === undefined ? undefined : containerFieldPath(pod, container));
  }

  /** A failed liveness or startup probe: the container gets killed and restarted on the next sync. */
  markForRestart(containerId: string, message: string): void {
    this.toKill.set(containerId, message);
  }

  private async sandboxes(uid: string): Promise<CriSandbox[]> {
    const res = await this.o.cri.runtime<{ items: CriSandbox[] }>('ListPodSandbox', { filter: { labelSelector: { [labels.podUid]: uid } } });
    return res.items.sort((a, b) => b.metadata.attempt - a.metadata.attempt);
  }

  private async containersOf(uid: string): Promise<CriContainer[]> {
    const res = await this.o.cri.runtime<{ containers: CriContainer[] }>('ListContainers', { filter: { labelSelector: { [labels.podUid]: uid } } });
    return res.containers;
  }

  private async statusOf(id: string): Promise<CriContainerStatus | undefined> {
    try {
      return (await this.o.cri.runtime<{ status: CriContainerStatus }>('ContainerStatus', { containerId: id })).status;
    } catch (e) {
      if ((e as { notFound?: boolean }).notFound) return undefined;
      throw e;
    }
  }

  private podLogDir(pod: Pod): string {
    return `${this.o.node.podLogsDir}/${pod.metadata?.namespace ?? ''}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`;
  }

  private dnsConfig(pod: Pod): { servers: string[]; searches: string[]; options: string[] } | undefined {
    const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
    const hostNet = !!pod.spec?.hostNetwork;
    const ns = pod.metadata?.namespace ?? 'default';
    const d = this.o.node.clusterDomain;
    let servers: string[] = [];
    let searches: string[] = [];
    let options: string[] = [];
    if (policy === 'None') {
      // Everything comes from dnsConfig.
    } else if ((policy === 'ClusterFirst' && !hostNet) || policy === 'ClusterFirstWithHostNet') {
      servers = [...this.o.node.clusterDNS];
      searches = [`${ns}.svc.${d}`, `svc.${d}`, d];
      options = ['ndots:5'];
    } else {
      return pod.spec?.dnsConfig ? { servers: pod.spec.dnsConfig.nameservers ?? [], searches: pod.spec.dnsConfig.searches ?? [], options: (pod.spec.dnsConfig.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '')) } : undefined;
    }
    const extra = pod.spec?.dnsConfig;
    if (extra) {
      servers = [...servers, ...(extra.nameservers ?? [])];
      searches = [...searches, ...(extra.searches ?? [])];
      const names = new Map(options.map((o) => [o.split(':')[0]!, o]));
      for (const o of extra.options ?? []) names.set(o.name ?? '', o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '');
      options = [...names.values()];
    }
    return { servers, searches, options };
  }

  /** Brings a live pod to its desired state and writes its status. */
  async sync(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (!this.accepted.has(uid)) this.accepted.set(uid, this.now());
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      await this.stopSandboxes(uid);
      return;
    }
    const all = await this.sandboxes(uid);
    let sandbox = all.find((s) => s.state === 'SANDBOX_READY');
    let podIPs: string[] = [];
    // A pod whose sandbox or volumes just failed waits for its retry (already queued), whatever
    // else wakes it (its own status write, the relist): no new attempt and event every second.
    const retryAt = this.retryAt.get(uid);
    if (!sandbox && retryAt !== undefined && this.now() < retryAt) {
      this.o.requeueAt(pod, retryAt); // a timer may wake it a little early; it must not be the last
      return;
    }
    this.retryAt.delete(uid);
    try {
      const fresh = !sandbox;
      if (sandbox) {
        await this.o.volumes.setUp(pod);
        // configMap/secret/downwardAPI/projected contents follow their sources.
        await this.o.volumes.refresh(pod);
      } else sandbox = await this.volumesAndSandbox(pod, all);
      podIPs = await this.sandboxIPs(sandbox.id, pod);
      await this.syncContainers(pod, sandbox, podIPs, fresh);
    } catch (e) {
      if (e instanceof Error && e.name === 'VolumeError') {
        this.event(pod, 'Warning', 'FailedMount', e.message);
        this.retryLater(pod, 2000);
      } else if (!(e instanceof ImageError) && !(e instanceof ContainerConfigError)) {
        this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
        this.retryLater(pod, 5000);
        this.o.log.debug('pod sync failed', { pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, error: (e as Error).message });
      }
    }
    await this.writeStatus(pod, sandbox, podIPs, false);
  }

  private retryLater(pod: Pod, delayMs: number): void {
    const at = this.now() + delayMs;
    this.retryAt.set(pod.metadata?.uid ?? '', at);
    this.o.requeueAt(pod, at);
  }

  /**
   * A pod without a sandbox: its volumes are set up while its sandbox starts (each takes tens of
   * milliseconds, mostly waiting). The kubelet makes no sandbox before the volumes are ready, so
   * when they fail the new sandbox goes again, and the pod's next tries keep that order (no
   * sandbox made and removed every retry).
   */
  private async volumesAndSandbox(pod: Pod, old: CriSandbox[]): Promise<CriSandbox> {
    const uid = pod.metadata?.uid ?? '';
    if (this.volumesFailed.has(uid)) {
      await this.o.volumes.setUp(pod);
      this.volumesFailed.delete(uid);
      return this.createSandbox(pod, old);
    }
    const [volumes, sandbox] = await Promise.allSettled([this.o.volumes.setUp(pod), this.createSandbox(pod, old)]);
    if (volumes.status === 'rejected') {
      this.volumesFailed.add(uid);
      if (sandbox.status === 'fulfilled') {
        await this.o.cri.runtime('StopPodSandbox', { podSandboxId: sandbox.value.id }).catch(() => undefined);
        await this.o.cri.runtime('RemovePodSandbox', { podSandboxId: sandbox.value.id }).catch(() => undefined);
      }
      throw volumes.reason;
    }
    if (sandbox.status === 'rejected') throw sandbox.reason;
    return sandbox.value;
  }

  /** A new sandbox for the pod; `old` are its sandboxes in the runtime, none of them ready. */
  private async createSandbox(pod: Pod, old: CriSandbox[]): Promise<CriSandbox> {
    const uid = pod.metadata?.uid ?? '';
    const attempt = old.length ? old[0]!.metadata.attempt + 1 : 0;
    if (old.length) {
      // The sandbox died (node reboot, containerd restart): its containers go with it.
      this.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      for (const c of await this.containersOf(uid)) await this.o.cri.runtime('RemoveContainer', { containerId: c.id }).catch(() => undefined);
      for (const s of old) await this.o.cri.runtime('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    }
    const config = this.sandboxConfig(pod, attempt);
    const { podSandboxId } = await this.o.cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config });
    return { id: podSandboxId, metadata: { name: pod.metadata?.name ?? '', uid, namespace: pod.metadata?.namespace ?? '', attempt }, state: 'SANDBOX_READY', createdAt: String(BigInt(this.now()) * 1_000_000n), labels: config['labels'] as Record<string, string> };
  }

  private sandboxConfig(pod: Pod, attempt: number): Record<string, unknown> {
    return podSandboxConfig(pod, { attempt, logDirectory: this.podLogDir(pod), dns: this.dnsConfig(pod) });
  }

  private async sandboxIPs(id: string, pod: Pod): Promise<string[]> {
    if (pod.spec?.hostNetwork) return [this.o.node.hostIP];
    const st = await this.o.cri.runtime<{ status: { network?: { ip?: string; additionalIps?: Array<{ ip: string }> } } }>('PodSandboxStatus', { podSandboxId: id });
    const net = st.status.network;
    return [net?.ip, ...(net?.additionalIps ?? []).map((a) => a.ip)].filter((x): x is string => !!x);
  }

  /** The newest container of each name in this sandbox, and the one before it. */
  private async byName(sandboxId: string, uid: string): Promise<ContainersByName> {
    const all = (await this.containersOf(uid)).filter((c) => c.podSandboxId === sandboxId);
    const groups = new Map<string, CriContainer[]>();
    for (const c of all) {
      const list = groups.get(c.metadata.name) ?? [];
      list.push(c);
      groups.set(c.metadata.name, list);
    }
    const out: ContainersByName = new Map();
    for (const [name, list] of groups) {
      list.sort((a, b) => b.metadata.attempt - a.metadata.attempt);
      const latest = await this.statusOf(list[0]!.id);
      if (!latest) continue;
      const previous = list[1] ? await this.statusOf(list[1].id) : undefined;
      out.set(name, { latest, previous, older: list.slice(2).map((c) => c.id) });
    }
    return out;
  }

  private shouldRestart(pod: Pod, container: Container, exitCode: number, init: boolean): boolean {
    if (init && container.restartPolicy === 'Always') return true;
    const policy = pod.spec?.restartPolicy ?? 'Always';
    if (init) return policy !== 'Never' && exitCode !== 0;
    return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
  }

  /** Starts, restarts and kills the pod's containers; a `fresh` sandbox has none yet. */
  private async syncContainers(pod: Pod, sandbox: CriSandbox, podIPs: string[], fresh: boolean): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const current: ContainersByName = fresh ? new Map() : await this.byName(sandbox.id, uid);
    // Kill what failed its liveness/startup probe; it restarts below like any exited container.
    for (const { latest } of current.values()) {
      const why = this.toKill.get(latest.id);
      if (!why) continue;
      this.toKill.delete(latest.id);
      if (latest.state !== 'CONTAINER_RUNNING') continue;
      const spec = containerSpec(pod, latest.metadata.name);
      this.event(pod, 'Normal', 'Killing', why, latest.metadata.name);
      await this.stopContainer(pod, spec, latest.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
      if (spec) current.set(latest.metadata.name, { ...current.get(latest.metadata.name)!, latest: (await this.statusOf(latest.id)) ?? latest });
    }
    // Init containers, one at a time, in order; restartable ones (sidecars) stay running.
    for (const c of pod.spec?.initContainers ?? []) {
      const have = current.get(c.name ?? '');
      const sidecar = c.restartPolicy === 'Always';
      if (!have) {
        await this.startContainer(pod, c, sandbox, podIPs, 0, true);
        if (!sidecar) return;
        continue;
      }
      const st = have.latest;
      if (st.state === 'CONTAINER_RUNNING' || st.state === 'CONTAINER_CREATED') {
        if (sidecar) continue;
        return;
      }
      if (st.state === 'CONTAINER_EXITED' && st.exitCode === 0 && !sidecar) continue;
      if (!this.shouldRestart(pod, c, st.exitCode, true)) return;
      if (!(await this.restartAfterBackoff(pod, c, sandbox, podIPs, st, true))) return;
      if (!sidecar) return;
    }
    for (const c of pod.spec?.containers ?? []) {
      const have = current.get(c.name ?? '');
      if (!have) {
        await this.startContainer(pod, c, sandbox, podIPs, 0, false).catch(() => undefined);
        continue;
      }
      const st = have.latest;
      if (st.state === 'CONTAINER_EXITED' && this.shouldRestart(pod, c, st.exitCode, false)) {
        await this.restartAfterBackoff(pod, c, sandbox, podIPs, st, false).catch(() => undefined);
      }
      // One dead container per name is kept (for lastState and `logs --previous`).
      for (const id of have.older) await this.o.cri.runtime('RemoveContainer', { containerId: id }).catch(() => undefined);
    }
  }

  /** Restarts an exited container once its back-off (10 s doubling to 5 min) is over; true when started. */
  private async restartAfterBackoff(pod: Pod, c: Container, sandbox: CriSandbox, podIPs: string[], st: CriContainerStatus, init: boolean): Promise<boolean> {
    const key = `${pod.metadata?.uid ?? ''}/${c.name ?? ''}`;
    const finished = ns2ms(st.finishedAt);
    const b = this.backoff.get(key);
    if (b && this.now() < finished + b.delayMs) {
      this.waiting.set(key, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${formatDelay(b.delayMs)} restarting failed container=${c.name ?? ''} pod=${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`,
      });
      if (b.finishedAt !== finished) this.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', c.name);
      this.backoff.set(key, { ...b, finishedAt: finished });
      this.o.requeueAt(pod, finished + b.delayMs);
      return false;
    }
    // A container that ran long enough (twice the maximum back-off) starts over at 10 s.
    const ranLong = finished - ns2ms(st.startedAt) > 2 * maxBackoffMs;
    this.backoff.set(key, { delayMs: !b || ranLong ? initialBackoffMs : Math.min(maxBackoffMs, b.delayMs * 2), finishedAt: finished });
    await this.startContainer(pod, c, sandbox, podIPs, st.metadata.attempt + 1, init);
    return true;
  }

  private async startContainer(pod: Pod, c: Container, sandbox: CriSandbox, podIPs: string[], attempt: number, init: boolean): Promise<void> {
    const key = `${pod.metadata?.uid ?? ''}/${c.name ?? ''}`;
    const events = { event: (type: 'Normal' | 'Warning', reason: string, message: string) => this.event(pod, type, reason, message, c.name) };
    let image: string;
    try {
      image = await this.o.images.ensure(c, key, events);
    } catch (e) {
      if (e instanceof ImageError) {
        this.waiting.set(key, { reason: e.reason, message: e.message });
        const until = this.o.images.backoffUntil(key);
        if (until) this.o.requeueAt(pod, until);
      }
      throw e;
    }
    // A missing ConfigMap key, a bad subPath …: the container waits in CreateContainerConfigError.
    const configError = (e: unknown): never => {
      if (e instanceof ContainerConfigError) {
        this.waiting.set(key, { reason: 'CreateContainerConfigError', message: e.message });
        this.event(pod, 'Warning', 'Failed', `Error: ${e.message}`, c.name);
        this.o.requeueAt(pod, this.now() + 2000);
      }
      throw e;
    };
    const env = await containerEnv({ pod, podIPs, hostIP: this.o.node.hostIP, nodeName: this.o.node.nodeName, nodeAllocatable: this.o.node.allocatable }, c, this.o.envSources).catch(configError);
    const mounts = await this.o.volumes.mountsFor(pod, c, { podIPs, env: Object.fromEntries(env.map((e) => [e.key, e.value])) }).catch(configError);
    const config = containerConfig(pod, c, { attempt, env, mounts, image, nodeAllocatable: this.o.node.allocatable });
    let containerId: string;
    try {
      ({ containerId } = await this.o.cri.runtime<{ containerId: string }>('CreateContainer', { podSandboxId: sandbox.id, config, sandboxConfig: this.sandboxConfig(pod, sandbox.metadata.attempt) }));
    } catch (e) {
      const message = (e as Error).message;
      this.waiting.set(key, { reason: 'CreateContainerError', message });
      this.event(pod, 'Warning', 'Failed', `Error: ${message}`, c.name);
      this.o.requeueAt(pod, this.now() + 5000);
      throw e;
    }
    this.event(pod, 'Normal', 'Created', `Created container ${c.name ?? ''}`, c.name);
    try {
      await this.o.cri.runtime('StartContainer', { containerId });
    } catch (e) {
      const message = (e as Error).message;
      this.event(pod, 'Warning', 'Failed', `Error: ${message}`, c.name);
      throw e;
    }
    this.waiting.delete(key);
    this.event(pod, 'Normal', 'Started', `Started container ${c.name ?? ''}`, c.name);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const failure = await runLifecycleHook(postStart, { cri: this.o.cri, pod, container: c, containerId, podIP: podIPs[0] ?? '' }, POST_START_TIMEOUT_SECONDS);
      if (failure) {
        // As the kubelet: the container is killed and restarts by its policy.
        this.event(pod, 'Warning', 'FailedPostStartHook', failure, c.name);
        this.event(pod, 'Normal', 'Killing', 'FailedPostStartHook', c.name);
        await this.o.cri.runtime('StopContainer', { containerId, timeout: pod.spec?.terminationGracePeriodSeconds ?? 30 }).catch(() => undefined);
        throw new Error(failure);
      }
    }
    if (!init || c.restartPolicy === 'Always') {
      this.o.probes.addContainer(pod, c, containerId, new Date(this.now()), { podIP: podIPs[0] ?? '', cri: this.o.cri });
    }
  }

  /** The view of a container for its status, from the runtime's latest and previous runs. */
  private viewOf(pod: Pod, c: Container, init: boolean, have: { latest: CriContainerStatus; previous?: CriContainerStatus } | undefined): ContainerView {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${c.name ?? ''}`;
    const sidecar = init && c.restartPolicy === 'Always';
    const base: ContainerView = { name: c.name ?? '', image: c.image ?? '', imageID: '', init, sidecar, state: 'waiting', ready: false, started: false, restartCount: 0 };
    const term = (s: CriContainerStatus): Termination => ({
      exitCode: s.exitCode,
      reason: s.reason || (s.exitCode === 0 ? 'Completed' : 'Error'),
      message: s.message || undefined,
      startedAt: ns2ms(s.startedAt) || ns2ms(s.createdAt),
      finishedAt: ns2ms(s.finishedAt),
      containerID: `containerd://${s.id}`,
    });
    const wait = this.waiting.get(key);
    if (!have) {
      const anyInitPending = !init && (pod.spec?.initContainers ?? []).length > 0;
      return { ...base, waitingReason: wait?.reason ?? (anyInitPending ? 'PodInitializing' : 'ContainerCreating'), waitingMessage: wait?.message };
    }
    const { latest, previous } = have;
    const view: ContainerView = { ...base, imageID: latest.imageRef, containerID: `containerd://${latest.id}`, restartCount: latest.metadata.attempt };
    if (previous && previous.state === 'CONTAINER_EXITED') view.last = term(previous);
    if (latest.state === 'CONTAINER_RUNNING') {
      view.state = 'running';
      view.startedAt = ns2ms(latest.startedAt);
      const startup = this.o.probes.result(uid, c.name ?? '', 'startup');
      view.started = !c.startupProbe || startup === 'success';
      const readiness = this.o.probes.result(uid, c.name ?? '', 'readiness');
      view.ready = view.started && (!c.readinessProbe || readiness === 'success');
    } else if (latest.state === 'CONTAINER_EXITED') {
      if (wait && (wait.reason === 'CrashLoopBackOff' || wait.reason === 'ErrImagePull' || wait.reason === 'ImagePullBackOff' || wait.reason === 'CreateContainerConfigError')) {
        view.state = 'waiting';
        view.waitingReason = wait.reason;
        view.waitingMessage = wait.message;
        view.last = term(latest);
      } else {
        view.state = 'terminated';
        view.terminated = term(latest);
      }
    } else {
      view.waitingReason = 'ContainerCreating';
    }
    return view;
  }

  private async writeStatus(pod: Pod, sandbox: CriSandbox | undefined, podIPs: string[], stoppedForDeletion: boolean): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const current: ContainersByName = sandbox ? await this.byName(sandbox.id, uid) : new Map();
    const view: PodView = {
      sandboxReady: !!sandbox && sandbox.state === 'SANDBOX_READY' && !stoppedForDeletion,
      podIPs,
      hostIP: this.o.node.hostIP,
      acceptedAt: this.accepted.get(uid) ?? this.now(),
      stoppedForDeletion,
      containers: [
        ...(pod.spec?.initContainers ?? []).map((c) => this.viewOf(pod, c, true, current.get(c.name ?? ''))),
        ...(pod.spec?.containers ?? []).map((c) => this.viewOf(pod, c, false, current.get(c.name ?? ''))),
      ],
    };
    const status = buildPodStatus(pod as never, view, this.now());
    status['qosClass'] = pod.status?.qosClass ?? status['qosClass'];
    if (deepEqual(status, pod.status) || deepEqual(status, this.written.get(uid))) return;
    const target = this.o.statusTarget ? this.o.statusTarget(pod) : pod;
    if (!target) return;
    try {
      await this.o.client.update(refs.pods, pod.metadata?.namespace ?? '', { ...(target as unknown as ApiObject), status }, { subresource: 'status' });
      this.written.set(uid, status);
    } catch (e) {
      if (!isNotFound(e)) this.o.requeueAt(pod, this.now() + 1000);
    }
  }

  private async stopSandboxes(uid: string): Promise<void> {
    for (const s of await this.sandboxes(uid)) if (s.state === 'SANDBOX_READY') await this.o.cri.runtime('StopPodSandbox', { podSandboxId: s.id });
  }

  /**
   * Stops the pod: every container gets SIGTERM and `grace` seconds before SIGKILL (in parallel,
   * as the kubelet does), then the sandbox and its network go. With `remove`, containers,
   * sandbox and volumes are deleted too and the pod is forgotten.
   */
  async kill(pod: Pod, graceSeconds: number, remove: boolean): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    this.o.probes.removePod(uid);
    const containers = await this.containersOf(uid);
    await Promise.all(
      containers
        .filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED')
        .map(async (c) => {
          this.event(pod, 'Normal', 'Killing', `Stopping container ${c.metadata.name}`, c.metadata.name);
          const spec = containerSpec(pod, c.metadata.name);
          await this.stopContainer(pod, c.state === 'CONTAINER_RUNNING' ? spec : undefined, c.id, graceSeconds).catch(() => undefined);
        }),
    );
    const sandboxes = await this.sandboxes(uid);
    if (pod.metadata?.deletionTimestamp && sandboxes[0]) await this.writeStatus(pod, sandboxes[0], pod.status?.podIPs?.map((p) => p.ip ?? '') ?? [], true).catch(() => undefined);
    for (const s of sandboxes) await this.o.cri.runtime('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    if (!remove) return;
    for (const c of containers) await this.o.cri.runtime('RemoveContainer', { containerId: c.id }).catch(() => undefined);
    for (const s of sandboxes) await this.o.cri.runtime('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    await this.o.volumes.tearDown(uid);
    removePodCgroups(uid);
    this.forget(uid);
  }

  /**
   * Stops one container as the kubelet's killContainer: its preStop hook first (when the grace
   * period allows one), then SIGTERM with what is left of the grace period (at least 2 s after a
   * hook), then SIGKILL.
   */
  private async stopContainer(pod: Pod, spec: Container | undefined, containerId: string, graceSeconds: number): Promise<void> {
    let grace = Math.max(0, graceSeconds);
    const preStop = spec?.lifecycle?.preStop;
    if (spec && preStop && grace > 0) {
      const started = this.now();
      const hook = runLifecycleHook(preStop, { cri: this.o.cri, pod, container: spec, containerId, podIP: pod.status?.podIP ?? '' }, grace);
      const failure = await Promise.race([hook, new Promise<undefined>((r) => setTimeout(() => r(undefined), grace * 1000).unref())]);
      if (failure) this.event(pod, 'Warning', 'FailedPreStopHook', failure, spec.name);
      grace = Math.max(MIN_GRACE_AFTER_HOOK_SECONDS, grace - Math.ceil((this.now() - started) / 1000));
    }
    await this.o.cri.runtime('StopContainer', { containerId, timeout: grace });
  }

  forget(uid: string): void {
    this.accepted.delete(uid);
    this.volumesFailed.delete(uid);
    this.retryAt.delete(uid);
    this.written.delete(uid);
    for (const m of [this.backoff, this.waiting]) for (const k of [...m.keys()]) if (k.startsWith(`${uid}/`)) m.delete(k);
    this.o.images.forget(`${uid}/`);
  }

  /** Pod uids that have sandboxes on this node (to clean up pods deleted while the kubelet was away). */
  async knownPodUids(): Promise<Set<string>> {
    const res = await this.o.cri.runtime<{ items: CriSandbox[] }>('ListPodSandbox', {});
    return new Set(res.items.map((s) => s.labels?.[labels.podUid] ?? s.metadata.uid).filter(Boolean));
  }
}

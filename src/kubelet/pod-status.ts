/**
 * The pod status a kubelet writes, computed from what its runtime knows — shared by the
 * simulated nodes and the containerd kubelet so both report exactly as Kubernetes does: phase
 * (kubelet's getPhase), the conditions the kubelet owns (PodReadyToStartContainers, Initialized,
 * Ready, ContainersReady, PodScheduled), and container statuses with state and lastState.
 */
import type { PodCondition, PodSpec } from 'kubernetes-types/core/v1.js';
import type { ApiObject } from '../client/interface.js';
import { rfc3339 } from './node-status.js';

/** A container run that ended (times in ms since the epoch). */
export interface Termination {
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt: number;
  finishedAt: number;
  containerID: string;
}

/** What the runtime knows of one container of the pod. */
export interface ContainerView {
  name: string;
  /** The image as the pod spec names it. */
  image: string;
  /** The image as the runtime resolved it (`docker.io/library/busybox@sha256:…`); empty before it started. */
  imageID: string;
  init: boolean;
  /** An init container with restartPolicy Always. */
  sidecar: boolean;
  state: 'waiting' | 'running' | 'terminated';
  waitingReason?: string;
  waitingMessage?: string;
  containerID?: string;
  /** When the running container started (ms). */
  startedAt?: number;
  terminated?: Termination;
  last?: Termination;
  ready: boolean;
  started: boolean;
  restartCount: number;
}

/** What the runtime knows of the pod. */
export interface PodView {
  sandboxReady: boolean;
  podIPs: string[];
  hostIP: string;
  /** When the kubelet accepted the pod (startTime). */
  acceptedAt: number;
  /** The pod is being deleted and its containers have been stopped: the phase becomes final. */
  stoppedForDeletion: boolean;
  containers: ContainerView[];
}

/** Names images as containerd reports them (`nginx` → `docker.io/library/nginx:latest`). */
export function normalizeImage(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  const digest = at >= 0 ? name.slice(at) : '';
  if (at >= 0) name = name.slice(0, at);
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = slash >= 0 ? `docker.io/${name}` : `docker.io/library/${name}`;
  const lastSlash = name.lastIndexOf('/');
  if (!digest && !name.slice(lastSlash + 1).includes(':')) name += ':latest';
  return name + digest;
}

const t = (ms: number): string => rfc3339(new Date(ms));

function termination(x: Termination): Record<string, unknown> {
  const out: Record<string, unknown> = { exitCode: x.exitCode, reason: x.reason, startedAt: t(x.startedAt), finishedAt: t(x.finishedAt), containerID: x.containerID };
  if (x.message) out['message'] = x.message;
  if (x.signal) out['signal'] = x.signal;
  return out;
}

/**
 * The pod phase, as the kubelet's getPhase decides it: Pending until every container has
 * started, Running while any runs (or restarts), and Succeeded/Failed only when no container
 * will run again (restart policy, or the pod is being stopped for good).
 */
export function podPhase(view: PodView, restartPolicy: string): string {
  let pendingInit = 0;
  let failedInit = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  const hasRun = (c: ContainerView): boolean => !!c.last || c.state !== 'waiting';
  for (const c of view.containers) {
    if (c.init && !c.sidecar) {
      if (c.state === 'running') pendingInit++;
      else if (c.state === 'terminated') failedInit += c.terminated && c.terminated.exitCode !== 0 ? 1 : 0;
      else if (c.last) failedInit += c.last.exitCode !== 0 ? 1 : 0;
      else pendingInit++;
    } else if (c.init) {
      if (c.state === 'running') {
        if (!c.started) pendingInit++;
        running++;
      } else if (c.state === 'waiting' && !c.last) {
        pendingInit++;
        waiting++;
      }
    }
  }
  for (const c of view.containers) {
    if (c.init) continue;
    if (c.state === 'running') running++;
    else if (c.state === 'terminated') {
      stopped++;
      if (c.terminated?.exitCode === 0) succeeded++;
    } else if (c.last) stopped++;
    else waiting++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  const anyRegularStarted = view.containers.some((c) => !c.init && hasRun(c));
  if ((pendingInit > 0 && !anyRegularStarted) || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (running === 0 && stopped > 0) {
    if (view.stoppedForDeletion) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/**
 * The status to write: `old` (the pod's current status) with the kubelet's parts replaced.
 * Conditions the kubelet does not own (DisruptionTarget, readiness gates) are kept, and a
 * condition's lastTransitionTime only moves when its status changes.
 */
export function buildPodStatus(pod: ApiObject, view: PodView, now: number): Record<string, unknown> {
  const spec = (pod['spec'] ?? {}) as PodSpec;
  const old = (pod['status'] ?? {}) as Record<string, unknown>;
  const status: Record<string, unknown> = { ...old };
  const inits = view.containers.filter((c) => c.init);
  const apps = view.containers.filter((c) => !c.init);
  const initDone = inits.every((c) => (c.sidecar ? c.state === 'running' : c.state === 'terminated' && c.terminated?.exitCode === 0));
  let phase = podPhase(view, spec.restartPolicy ?? 'Always');
  // Pods do not leave a terminal phase.
  if (old['phase'] === 'Succeeded' || old['phase'] === 'Failed') phase = old['phase'] as string;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  status['phase'] = phase;
  status['hostIP'] = view.hostIP;
  status['hostIPs'] = [{ ip: view.hostIP }];
  if (view.podIPs.length) {
    status['podIP'] = view.podIPs[0];
    status['podIPs'] = view.podIPs.map((ip) => ({ ip }));
  }
  status['startTime'] = typeof old['startTime'] === 'string' ? old['startTime'] : t(view.acceptedAt);

  const unready = apps.filter((c) => !c.ready).map((c) => c.name);
  const gates = (spec.readinessGates ?? []).map((g) => g.conditionType ?? '');
  const oldConds = (Array.isArray(old['conditions']) ? old['conditions'] : []) as PodCondition[];
  const gatesMissing = gates.filter((g) => !oldConds.some((c) => c.type === g && c.status === 'True'));
  const owned: PodCondition[] = [];
  owned.push({ type: 'PodReadyToStartContainers', status: view.sandboxReady && !terminal ? 'True' : 'False' });
  if (initDone) owned.push({ type: 'Initialized', status: 'True' });
  else {
    const incomplete = inits.filter((c) => !(c.state === 'terminated' && c.terminated?.exitCode === 0) && !(c.sidecar && c.state === 'running')).map((c) => c.name);
    owned.push({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` });
  }
  let containersReady: PodCondition;
  if (terminal) containersReady = { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  else if (unready.length === 0 && initDone) containersReady = { type: 'ContainersReady', status: 'True' };
  else containersReady = { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  let ready: PodCondition;
  if (containersReady.status !== 'True') ready = { ...containersReady, type: 'Ready' };
  else if (gatesMissing.length > 0) ready = { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: `corresponding condition of pod readiness gate "${gatesMissing[0]}" does not exist.` };
  else ready = { type: 'Ready', status: 'True' };
  owned.push(ready, containersReady, { type: 'PodScheduled', status: 'True' });
  const ownedTypes = new Set(owned.map((c) => c.type));
  const conditions: PodCondition[] = owned.map((c) => {
    const prev = oldConds.find((p) => p.type === c.type);
    const since = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : t(now);
    return { type: c.type, status: c.status, lastProbeTime: null as unknown as string, lastTransitionTime: since, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
  });
  for (const c of oldConds) if (!ownedTypes.has(c.type)) conditions.push(c);
  status['conditions'] = conditions;

  const statusOf = (c: ContainerView): Record<string, unknown> => {
    const cs: Record<string, unknown> = { name: c.name, image: normalizeImage(c.image), imageID: c.imageID };
    if (c.containerID) cs['containerID'] = c.containerID;
    if (c.state === 'running') cs['state'] = { running: { startedAt: t(c.startedAt ?? now) } };
    else if (c.state === 'terminated' && c.terminated) cs['state'] = { terminated: termination(c.terminated) };
    else cs['state'] = { waiting: { reason: c.waitingReason ?? 'ContainerCreating', ...(c.waitingMessage ? { message: c.waitingMessage } : {}) } };
    cs['lastState'] = c.last ? { terminated: termination(c.last) } : {};
    cs['ready'] = c.ready && !terminal;
    cs['restartCount'] = c.restartCount;
    cs['started'] = c.started;
    return cs;
  };
  if (inits.length > 0) status['initContainerStatuses'] = inits.map(statusOf);
  status['containerStatuses'] = apps.map(statusOf);
  return status;
}

/** `10s`, `1m20s`, `5m0s`: Go's duration format as back-off messages print it. */
export function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${s % 60}s`;
}

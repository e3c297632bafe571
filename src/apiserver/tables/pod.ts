/**
 * The pod printer: NAME READY STATUS RESTARTS AGE, wide IP NODE NOMINATED NODE READINESS GATES.
 * STATUS follows Kubernetes' printPod: init progress (`Init:0/2`, `Init:CrashLoopBackOff`),
 * container waiting/terminated reasons (`CrashLoopBackOff`, `Completed`, `ExitCode:1`),
 * `Terminating` while being deleted, `SchedulingGated`, `NotReady` for finished sidecar pods.
 */

import type { Container, ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { translateTimestampSince, parseTimestamp } from './age.js';
import { column, definePrinter, nameColumn, ageColumn, type Printer, type TableRowCondition } from './table.js';

/** Pod reason set by the node lifecycle controller for pods on an unreachable node. */
const NODE_UNREACHABLE_REASON = 'NodeLost';

function isRestartableInit(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function conditionTrue(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** `isPodInitializedConditionTrue`: the first Initialized condition decides. */
function initializedTrue(conditions: readonly PodCondition[] | undefined): boolean {
  const c = (conditions ?? []).find((x) => x.type === 'Initialized');
  return c?.status === 'True';
}

/** The newest `lastState.terminated.finishedAt` seen so far (ms), in the spirit of `Time.Before`. */
function laterFinish(current: number | undefined, status: ContainerStatus): number | undefined {
  const t = parseTimestamp(status.lastState?.terminated?.finishedAt);
  if (t === undefined) return current;
  return current === undefined || current < t ? t : current;
}

/** The READY, STATUS and RESTARTS cells of a pod. */
export function podStatusCells(pod: Pod, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = spec?.initContainers ?? [];
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = spec?.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;

  const phase = status.phase ?? '';
  let reason = status.reason ? status.reason : phase;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initByName = new Map<string, Container>();
  for (const c of initSpecs) {
    initByName.set(c.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    restarts += cs.restartCount ?? 0;
    lastRestart = laterFinish(lastRestart, cs);
    const restartable = isRestartableInit(initByName.get(cs.name));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = laterFinish(lastRestartableInitRestart, cs);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || initializedTrue(status.conditions)) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Walked backwards so the first container's reason wins, as in Kubernetes.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      restarts += cs.restartCount ?? 0;
      lastRestart = laterFinish(lastRestart, cs);
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      } else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === NODE_UNREACHABLE_REASON) {
    reason = 'Unknown';
  } else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsText = `${restarts} (${translateTimestampSince(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  let trueCount = 0;
  for (const g of gates) {
    const c = (pod.status?.conditions ?? []).find((x) => x.type === g.conditionType);
    if (c?.status === 'True') trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

function podConditions(pod: Pod): TableRowCondition[] | undefined {
  switch (pod.status?.phase) {
    case 'Succeeded':
      return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default:
      return undefined;
  }
}

export const podPrinter: Printer = definePrinter<Pod>(
  [
    nameColumn(),
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    column('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    column('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    column('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  (pod, now) => {
    const { ready, status, restarts } = podStatusCells(pod, now);
    // v1 → internal conversion fills podIPs from podIP when only the latter is set.
    const ip = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>';
    return [
      pod.metadata?.name ?? '',
      ready,
      status,
      restarts,
      translateTimestampSince(pod.metadata?.creationTimestamp, now),
      ip,
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates(pod),
    ];
  },
  podConditions,
);

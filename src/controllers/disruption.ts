import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import { keyOf, refs, splitKey } from '../client/informer.js';
import { isNotFound, type ApiObject } from '../client/interface.js';
import { selectorFromLabelSelector } from '../machinery/labels.js';
import { deepEqual } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';
import { asApiObject, controllerRef, isPodReady } from './pod-control.js';
import { scaledValue } from './deployment-util.js';

/** How long an eviction recorded in status.disruptedPods counts before the pod is expected gone (Kubernetes: 2 min). */
const disruptedPodTimeoutMs = 2 * 60_000;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Keeps PodDisruptionBudget status current (Kubernetes' disruption controller): expected pods,
 * healthy pods, the healthy count the budget needs, and how many disruptions the eviction API
 * may allow now, with the DisruptionAllowed condition.
 */
export class DisruptionController extends Controller {
  readonly name = 'disruption';
  private readonly pdbs = this.ctx.informers.for(refs.poddisruptionbudgets);
  private readonly pods = this.ctx.informers.for(refs.pods);
  private readonly replicasets = this.ctx.informers.for(refs.replicasets);
  private readonly deployments = this.ctx.informers.for(refs.deployments);
  private readonly statefulsets = this.ctx.informers.for(refs.statefulsets);
  private readonly rcs = this.ctx.informers.for(refs.replicationcontrollers);

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    this.pdbs.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (_, o) => this.enqueue(o) });
    const podChanged = (o: ApiObject): void => {
      for (const pdb of this.pdbsOf(o)) this.enqueue(pdb);
    };
    this.pods.addEventHandler({
      onAdd: podChanged,
      onUpdate: (old, cur) => {
        podChanged(old);
        podChanged(cur);
      },
      onDelete: podChanged,
    });
    // A change of a controller's scale changes expectedPods of percentage and maxUnavailable budgets.
    const scaleChanged = (o: ApiObject): void => {
      for (const pdb of this.pdbs.list(o.metadata?.namespace ?? '')) this.enqueue(pdb);
    };
    for (const inf of [this.replicasets, this.deployments, this.statefulsets, this.rcs]) {
      inf.addEventHandler({ onUpdate: (old, cur) => (old['spec'] as { replicas?: number } | undefined)?.replicas !== (cur['spec'] as { replicas?: number } | undefined)?.replicas && scaleChanged(cur) });
    }
  }

  private pdbsOf(pod: ApiObject): ApiObject[] {
    const labels = pod.metadata?.labels ?? {};
    return this.pdbs.list(pod.metadata?.namespace ?? '').filter((pdb) => selectorOf(pdb as PodDisruptionBudget).matches(labels));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const obj = this.pdbs.get(namespace, name);
    if (!obj) return;
    const pdb = obj as PodDisruptionBudget;
    const now = this.ctx.clock.now();
    const sel = selectorOf(pdb);
    const pods = this.pods.list(namespace).map((p) => p as Pod).filter((p) => sel.matches(p.metadata?.labels ?? {}));
    const old = pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };

    let expected: number;
    let desired: number;
    let failure: string | undefined;
    try {
      ({ expected, desired } = this.budget(pdb, pods));
    } catch (e) {
      failure = (e as Error).message;
      expected = 0;
      desired = 0;
    }

    // Evictions granted but whose pods are not yet gone still count as disruptions.
    const disrupted: Record<string, string> = {};
    let nextExpiry: number | undefined;
    for (const [podName, at] of Object.entries(old.disruptedPods ?? {})) {
      const pod = pods.find((p) => p.metadata?.name === podName);
      if (!pod || pod.metadata?.deletionTimestamp) continue;
      const expiry = new Date(at).getTime() + disruptedPodTimeoutMs;
      if (expiry <= now.getTime()) continue;
      disrupted[podName] = at;
      nextExpiry = Math.min(nextExpiry ?? expiry, expiry);
    }
    const healthy = pods.filter((p) => !p.metadata?.deletionTimestamp && disrupted[p.metadata?.name ?? ''] === undefined && isPodReady(p)).length;
    let allowed = healthy - desired;
    if (failure !== undefined || expected <= 0 || allowed < 0) allowed = 0;

    const status: PodDisruptionBudgetStatus = {
      currentHealthy: healthy,
      desiredHealthy: desired,
      disruptionsAllowed: allowed,
      expectedPods: expected,
      observedGeneration: pdb.metadata?.generation ?? old.observedGeneration,
      conditions: old.conditions ? [...old.conditions] : [],
    };
    if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
    if (status.observedGeneration === undefined) delete status.observedGeneration;
    const [condStatus, reason, message] = failure !== undefined ? (['False', 'SyncFailed', failure] as const) : allowed > 0 ? (['True', 'SufficientPods', ''] as const) : (['False', 'InsufficientPods', ''] as const);
    setCondition(status.conditions!, { type: 'DisruptionAllowed', status: condStatus, reason, message, lastTransitionTime: rfc3339(now), observedGeneration: status.observedGeneration }, now);
    if (nextExpiry !== undefined) this.queue.addAfter(key, nextExpiry - now.getTime() + 10);
    if (deepEqual(status, pdb.status)) return;
    try {
      await this.ctx.client.update(refs.poddisruptionbudgets, namespace, { ...asApiObject(pdb), status }, { subresource: 'status' });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** expectedPods and desiredHealthy, as Kubernetes derives them from minAvailable/maxUnavailable. */
  private budget(pdb: PodDisruptionBudget, pods: Pod[]): { expected: number; desired: number } {
    const spec = pdb.spec ?? {};
    if (spec.maxUnavailable !== undefined) {
      const expected = this.expectedScale(pods);
      const maxUnavailable = scaledValue(spec.maxUnavailable, expected, true, 0);
      return { expected, desired: Math.max(0, expected - maxUnavailable) };
    }
    if (spec.minAvailable !== undefined) {
      if (typeof spec.minAvailable === 'number') return { expected: pods.length, desired: spec.minAvailable };
      const expected = this.expectedScale(pods);
      return { expected, desired: scaledValue(spec.minAvailable, expected, true, 0) };
    }
    return { expected: pods.length, desired: 0 };
  }

  /** The sum of the scale of the controllers owning the pods (each controller counted once). */
  private expectedScale(pods: Pod[]): number {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const ns = pod.metadata?.namespace ?? '';
      const ref = controllerRef(asApiObject(pod));
      if (!ref) throw new Error(`found no controller ref for pod "${pod.metadata?.name ?? ''}"`);
      let owner: ApiObject | undefined;
      if (ref.kind === 'ReplicaSet') {
        owner = this.replicasets.get(ns, ref.name);
        const dref = owner ? controllerRef(owner) : undefined;
        if (dref?.kind === 'Deployment') owner = this.deployments.get(ns, dref.name) ?? owner;
      } else if (ref.kind === 'StatefulSet') owner = this.statefulsets.get(ns, ref.name);
      else if (ref.kind === 'ReplicationController') owner = this.rcs.get(ns, ref.name);
      if (!owner) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
      seen.set(keyOf(owner) + '/' + String(owner.kind ?? ref.kind), (owner['spec'] as { replicas?: number } | undefined)?.replicas ?? 1);
    }
    let sum = 0;
    for (const n of seen.values()) sum += n;
    return sum;
  }
}

function selectorOf(pdb: PodDisruptionBudget): { matches(labels: Record<string, string>): boolean } {
  try {
    // policy/v1: an empty selector selects every pod of the namespace; a missing one none.
    return selectorFromLabelSelector(pdb.spec?.selector);
  } catch {
    return { matches: () => false };
  }
}

/** Sets a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conds: Condition[], c: Condition, now: Date): void {
  const i = conds.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? conds[i] : undefined;
  const next: Condition = { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : rfc3339(now) };
  if (next.observedGeneration === undefined) delete next.observedGeneration;
  if (i >= 0) conds[i] = next;
  else conds.push(next);
}

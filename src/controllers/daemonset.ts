import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, PodTemplateSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { indexes, refs } from '../client/informer.js';
import { ApiError, isNotFound, type ApiObject } from '../client/interface.js';
import { podMatchesNodeSelectorAndAffinity } from '../machinery/node-selector.js';
import { deepEqual } from '../machinery/json-value.js';
import { tolerates } from './node-lifecycle.js';
import { Controller, type ControllerContext } from './controller.js';
import { controllerRevisionHashLabel, syncRevisions, templateOfRevision, truncateHistory } from './controller-revision.js';
import { scaledValue } from './deployment-util.js';
import { asApiObject, controllerRef, isPodAvailable, isPodReady, newControllerRef, podFromTemplate } from './pod-control.js';

/** The tolerations every DaemonSet pod gets, so daemons run on nodes other pods avoid (AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** The node a daemon pod is bound or pinned (through `metadata.name` node affinity) to. */
export function daemonPodNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const f = term.matchFields?.find((x) => x.key === 'metadata.name' && x.operator === 'In');
    if (f?.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * Whether a daemon pod belongs on a node (NodeShouldRunDaemonPod): `shouldRun` when the node
 * selector and required affinity match and every NoSchedule/NoExecute taint is tolerated;
 * `shouldContinueRunning` when they match and every NoExecute taint is tolerated (a new
 * NoSchedule taint keeps running daemons).
 */
export function nodeShouldRunDaemonPod(template: PodTemplateSpec | undefined, node: Node): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const pod = { spec: { ...template?.spec, containers: template?.spec?.containers ?? [] } } as Pod;
  if (!podMatchesNodeSelectorAndAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = [...(template?.spec?.tolerations ?? []), ...daemonTolerations(!!template?.spec?.hostNetwork)];
  const tolerated = (t: Taint): boolean => tolerations.some((tol) => tolerates(tol as Parameters<typeof tolerates>[0], t as Parameters<typeof tolerates>[1]));
  const taints = node.spec?.taints ?? [];
  const continueRunning = taints.every((t) => t.effect !== 'NoExecute' || tolerated(t));
  const run = continueRunning && taints.every((t) => t.effect !== 'NoSchedule' || tolerated(t));
  return { shouldRun: run, shouldContinueRunning: continueRunning };
}

function isFinished(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/**
 * The DaemonSet controller: one pod per eligible node (node selector, required affinity and
 * taints decide, with the tolerations daemons always get), new nodes included, pods pinned to
 * their node through node affinity on `metadata.name` as Kubernetes does so the scheduler binds
 * them, ControllerRevisions for the template, and RollingUpdate with maxUnavailable/maxSurge
 * (or OnDelete).
 */
export class DaemonSetController extends Controller {
  readonly name = 'daemonset';
  /**
   * Expectations: pods created but not yet seen by the informer, by `<ds uid>/<node>` → expiry.
   * Without them every event before the watch catches up would create another pod.
   */
  private readonly expected = new Map<string, number>();
  /** Pods deleted but still shown by the cache, by uid → expiry (the other half of expectations). */
  private readonly expectedDeletes = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const sets = this.ctx.informers.for(refs.daemonsets);
    sets.addEventHandler({ onAdd: (d) => this.enqueue(d), onUpdate: (_o, d) => this.enqueue(d) });
    const all = (): void => {
      for (const d of sets.list()) this.enqueue(d);
    };
    // Heartbeats change nodes all the time; only what decides eligibility matters here.
    const eligibility = (n: ApiObject): unknown => [n.metadata?.labels, (n['spec'] as Node['spec'])?.taints, (n['spec'] as Node['spec'])?.unschedulable];
    this.ctx.informers.for(refs.nodes).addEventHandler({
      onAdd: all,
      onUpdate: (o, n) => {
        if (!deepEqual(eligibility(o), eligibility(n))) all();
      },
      onDelete: all,
    });
    const pods = this.ctx.informers.for(refs.pods);
    pods.addIndexer('controller-uid', indexes.controllerUid);
    const owner = (p: ApiObject): void => {
      const ref = controllerRef(p);
      if (ref?.kind === 'DaemonSet' && p.metadata?.namespace) this.queue.add(`${p.metadata.namespace}/${ref.name}`);
    };
    pods.addEventHandler({ onAdd: owner, onUpdate: (_o, p) => owner(p), onDelete: owner });
    this.ctx.informers.for(refs.controllerrevisions).addIndexer('controller-uid', indexes.controllerUid);
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.ctx.informers.for(refs.daemonsets).getByKey(key);
    if (!cached || cached.metadata?.deletionTimestamp) return;
    const ds = cached as unknown as DaemonSet;
    const ns = ds.metadata?.namespace ?? '';
    const uid = ds.metadata?.uid ?? '';
    const recorder = this.ctx.recorder('daemonset-controller');
    const owned = this.ctx.informers.for(refs.controllerrevisions).byIndex('controller-uid', uid) as unknown as ControllerRevision[];
    const revs = await syncRevisions(this.ctx.client, { owner: cached, apiVersion: 'apps/v1', kind: 'DaemonSet', template: ds.spec?.template, collisionCount: ds.status?.collisionCount ?? 0 }, owned);
    const hash = revs.update.metadata?.labels?.[controllerRevisionHashLabel] ?? '';
    const template = templateOfRevision(revs.update);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    const available = (p: Pod): boolean => isPodAvailable(p, minReady, now);
    const nodes = this.ctx.informers.for(refs.nodes).list() as unknown as Node[];
    const pods = this.ctx.informers.for(refs.pods).byIndex('controller-uid', uid) as unknown as Pod[];
    const byNode = new Map<string, Pod[]>();
    for (const p of pods) {
      const n = daemonPodNode(p) ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }

    const toDelete: Pod[] = [];
    const toCreate: string[] = [];
    /** Per eligible node: its one old-revision pod and its new one, for the rolling update. */
    const placed: Array<{ node: string; oldPod?: Pod; newPod?: Pod }> = [];
    const knownNodes = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      knownNodes.add(name);
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(ds.spec?.template, node);
      const here = byNode.get(name) ?? [];
      const live = here.filter((p) => !p.metadata?.deletionTimestamp);
      // Failed daemons are deleted and replaced (Kubernetes backs off; the expectation spaces retries).
      for (const p of live.filter(isFinished)) toDelete.push(p);
      const running = live.filter((p) => !isFinished(p));
      if (running.some((p) => p.metadata?.labels?.[controllerRevisionHashLabel] === hash)) this.expected.delete(`${uid}/${name}`);
      if (shouldRun && running.length === 0) {
        toCreate.push(name);
        placed.push({ node: name });
        continue;
      }
      if (!shouldContinueRunning) {
        toDelete.push(...running);
        continue;
      }
      if (!running.length) continue;
      // Keep at most one pod per revision kind: the oldest updated pod and the oldest old one.
      const byAge = [...running].sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
      const newPods = byAge.filter((p) => p.metadata?.labels?.[controllerRevisionHashLabel] === hash);
      const oldPods = byAge.filter((p) => p.metadata?.labels?.[controllerRevisionHashLabel] !== hash);
      const newPod = newPods[0];
      let oldPod = oldPods[0];
      toDelete.push(...newPods.slice(1), ...oldPods.slice(1));
      // With a new pod in place, the old one goes once the new one is available (surge) — or at once.
      if (newPod && oldPod && (available(newPod) || !available(oldPod))) {
        toDelete.push(oldPod);
        oldPod = undefined;
      }
      placed.push({ node: name, ...(oldPod ? { oldPod } : {}), ...(newPod ? { newPod } : {}) });
    }
    // Pods for nodes that no longer exist.
    for (const [node, ps] of byNode) if (!knownNodes.has(node)) toDelete.push(...ps.filter((p) => !p.metadata?.deletionTimestamp));

    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(ds.spec?.template, n).shouldRun).length;
    // Like Kubernetes' expectations: the rolling update waits until the cache shows our last writes,
    // or it would count a just-replaced node as available and replace a second one.
    const settled = [...knownNodes].every((n) => (this.expected.get(`${uid}/${n}`) ?? 0) < now.getTime()) && pods.every((p) => p.metadata?.deletionTimestamp || (this.expectedDeletes.get(p.metadata?.uid ?? '') ?? 0) < now.getTime());
    for (const [u, exp] of this.expectedDeletes) if (exp < now.getTime() || !pods.some((p) => p.metadata?.uid === u && !p.metadata?.deletionTimestamp)) this.expectedDeletes.delete(u);
    if (settled && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') this.rollingUpdate(ds, desired, placed, available, toDelete, toCreate);

    for (const p of toDelete) await this.deletePod(cached, p, recorder);
    for (const node of new Set(toCreate)) {
      // Created already, and the cache does not show it yet.
      if ((this.expected.get(`${uid}/${node}`) ?? 0) >= now.getTime()) continue;
      this.expected.set(`${uid}/${node}`, now.getTime() + 30_000);
      await this.createPod(cached, template, node, hash, recorder);
    }
    if (minReady > 0 && pods.some((p) => isPodReady(p) && !available(p))) this.queue.addAfter(key, minReady * 1000 + 100);

    await this.writeStatus(cached, this.computeStatus(ds, nodes, byNode, hash, available, revs.collisionCount));
    const keep = new Set<string>([revs.update.metadata?.name ?? '']);
    for (const p of pods) {
      const h = p.metadata?.labels?.[controllerRevisionHashLabel];
      if (h) keep.add(h);
    }
    await truncateHistory(this.ctx.client, revs.revisions, keep, ds.spec?.revisionHistoryLimit ?? 10);
  }

  /**
   * Kubernetes' rollingUpdate: without surge, old pods are deleted while fewer than
   * maxUnavailable daemons are unavailable (unavailable old pods first, for free); with surge, a
   * new pod starts beside the old one on up to maxSurge nodes, and the old goes when it is available.
   */
  private rollingUpdate(ds: DaemonSet, desired: number, placed: Array<{ node: string; oldPod?: Pod; newPod?: Pod }>, available: (p: Pod) => boolean, toDelete: Pod[], toCreate: string[]): void {
    const ru = ds.spec?.updateStrategy?.rollingUpdate;
    const maxSurge = scaledValue(ru?.maxSurge, desired, true, 0);
    const maxUnavailable = maxSurge === 0 ? Math.max(1, scaledValue(ru?.maxUnavailable, desired, true, 1)) : scaledValue(ru?.maxUnavailable, desired, true, 0);
    if (maxSurge === 0) {
      let unavailable = 0;
      const candidates: Pod[] = [];
      for (const x of placed) {
        // A node still without its daemon counts as unavailable.
        if ((x.newPod && !available(x.newPod)) || (!x.newPod && !x.oldPod)) unavailable++;
        if (!x.oldPod || x.newPod) continue;
        if (!available(x.oldPod)) {
          unavailable++;
          toDelete.push(x.oldPod);
        } else candidates.push(x.oldPod);
      }
      toDelete.push(...candidates.slice(0, Math.max(0, maxUnavailable - unavailable)));
      return;
    }
    let surging = 0;
    const candidates: string[] = [];
    for (const x of placed) {
      if (x.oldPod && x.newPod) surging++;
      else if (x.oldPod && !x.newPod) {
        if (!available(x.oldPod)) toCreate.push(x.node);
        else candidates.push(x.node);
      }
    }
    toCreate.push(...candidates.slice(0, Math.max(0, maxSurge - surging)));
  }

  private computeStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, available: (p: Pod) => boolean, collisionCount: number): DaemonSetStatus {
    const status: DaemonSetStatus = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, updatedNumberScheduled: 0, observedGeneration: ds.metadata?.generation };
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(ds.spec?.template, node);
      const here = (byNode.get(node.metadata?.name ?? '') ?? []).filter((p) => !p.metadata?.deletionTimestamp && !isFinished(p));
      if (!shouldRun) {
        if (here.length) status.numberMisscheduled++;
        continue;
      }
      status.desiredNumberScheduled++;
      if (!here.length) continue;
      status.currentNumberScheduled++;
      const ready = here.filter((p) => isPodReady(p));
      if (ready.length) status.numberReady = (status.numberReady ?? 0) + 1;
      if (here.some(available)) status.numberAvailable = (status.numberAvailable ?? 0) + 1;
      if (here.some((p) => p.metadata?.labels?.[controllerRevisionHashLabel] === hash)) status.updatedNumberScheduled = (status.updatedNumberScheduled ?? 0) + 1;
    }
    const unavailable = status.desiredNumberScheduled - (status.numberAvailable ?? 0);
    if (unavailable > 0) status.numberUnavailable = unavailable;
    if (collisionCount) status.collisionCount = collisionCount;
    return status;
  }

  private async writeStatus(cached: ApiObject, status: DaemonSetStatus): Promise<void> {
    const old = (cached['status'] ?? {}) as DaemonSetStatus;
    const merged = { ...status, ...(old.conditions ? { conditions: old.conditions } : {}) };
    if (deepEqual(JSON.parse(JSON.stringify(merged)), old)) return;
    try {
      const fresh = await this.ctx.client.get(refs.daemonsets, cached.metadata?.namespace ?? '', cached.metadata?.name ?? '');
      await this.ctx.client.update(refs.daemonsets, cached.metadata?.namespace ?? '', { ...fresh, status: merged }, { subresource: 'status' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async createPod(ds: ApiObject, template: PodTemplateSpec, node: string, hash: string, recorder: ReturnType<ControllerContext['recorder']>): Promise<void> {
    const pod = podFromTemplate(template, ds, newControllerRef(ds, 'apps/v1', 'DaemonSet'));
    pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, [controllerRevisionHashLabel]: hash } };
    const spec = pod.spec!;
    const tolerations = [...(spec.tolerations ?? [])];
    for (const t of daemonTolerations(!!spec.hostNetwork)) if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
    spec.tolerations = tolerations;
    // Pinned to its node through affinity (replacing any metadata.name term); the scheduler binds it, as in Kubernetes.
    const pin = { key: 'metadata.name', operator: 'In', values: [node] };
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    const pinned = terms.length
      ? terms.map((t) => ({ ...t, matchFields: [...(t.matchFields ?? []).filter((f) => f.key !== 'metadata.name'), pin] }))
      : [{ matchFields: [pin] }];
    spec.affinity = { ...spec.affinity, nodeAffinity: { ...spec.affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: pinned } } };
    try {
      const created = await this.ctx.client.create(refs.pods, ds.metadata?.namespace ?? '', asApiObject(pod));
      recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (e) {
      this.expected.delete(`${ds.metadata?.uid}/${node}`);
      recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }

  private async deletePod(ds: ApiObject, pod: Pod, recorder: ReturnType<ControllerContext['recorder']>): Promise<void> {
    try {
      this.expectedDeletes.set(pod.metadata?.uid ?? '', this.ctx.clock.now().getTime() + 30_000);
      await this.ctx.client.delete(refs.pods, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid } });
      recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    } catch (e) {
      if (isNotFound(e) || (e instanceof ApiError && e.code === 409)) return;
      recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
      throw e;
    }
  }
}

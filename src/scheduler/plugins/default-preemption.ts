import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Client } from '../../client/interface.js';
import { isNotFound } from '../../client/interface.js';
import { refs, type SharedInformer } from '../../client/informer.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { Clock } from '../../machinery/clock.js';
import { selectorFromLabelSelector, type LabelSelector } from '../../machinery/labels.js';
import { Code, Status, type CycleState, type NodeInfo, type NodeToStatus, type PodInfo, type PostFilterPlugin, type Snapshot } from '../framework.js';
import type { SchedulingFramework } from '../framework-runner.js';
import { fitErrorMessage } from '../fit-error.js';

export const errNoVictims = 'No preemption victims found for incoming pod';
export const errNotHelpful = 'Preemption is not helpful for scheduling';

/** What preemption needs from the scheduler. */
export interface PreemptionHandle {
  framework: () => SchedulingFramework;
  snapshot: Snapshot;
  client: Client;
  recorder: EventRecorder;
  clock: Clock;
  pdbs: SharedInformer | undefined;
}

interface Candidate {
  node: string;
  victims: PodInfo[];
  pdbViolations: number;
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/**
 * DefaultPreemption (PostFilter): for a pod no node fits, finds a node where evicting pods of
 * lower priority makes it fit — fewest PDB violations, then the lowest highest victim priority,
 * lowest priority sum, fewest victims, most recently started — deletes those victims and
 * nominates the node.
 */
export class DefaultPreemptionPlugin implements PostFilterPlugin {
  readonly name = 'DefaultPreemption';
  private offset = 0;

  constructor(private readonly h: PreemptionHandle) {}

  async postFilter(state: CycleState, pod: Pod, filtered: NodeToStatus): Promise<{ nominatedNodeName?: string; status: Status }> {
    if (pod.spec?.preemptionPolicy === 'Never') return { status: Status.unschedulable('preemption: not eligible due to preemptionPolicy=Never.') };
    const prio = pod.spec?.priority ?? 0;
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = this.h.snapshot.get(nominated);
      if (ni && [...ni.pods.values()].some((p) => p.pod.metadata?.deletionTimestamp && p.priority < prio)) {
        return { status: Status.unschedulable('preemption: not eligible due to a terminating pod on the nominated node.') };
      }
    }
    const all = this.h.snapshot.list();
    const potential = all.filter((n) => filtered.get(n.name)?.code === Code.Unschedulable);
    const statuses: NodeToStatus = new Map();
    const candidates: Candidate[] = [];
    const want = Math.max(100, Math.ceil(all.length / 10));
    const start = potential.length > 0 ? this.offset % potential.length : 0;
    for (let i = 0; i < potential.length && candidates.length < want; i++) {
      const ni = potential[(start + i) % potential.length]!;
      const r = this.selectVictims(state, pod, ni);
      if ('status' in r) statuses.set(ni.name, r.status);
      else candidates.push(r);
    }
    this.offset += potential.length;
    if (candidates.length === 0) {
      const msg = fitErrorMessage(all.length, { nodeToStatus: statuses, absentReason: errNotHelpful });
      return { status: Status.unschedulable(`preemption: ${msg}`) };
    }
    const best = pickCandidate(candidates);
    await this.evict(pod, best);
    return { nominatedNodeName: best.node, status: Status.success() };
  }

  private selectVictims(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Candidate | { status: Status } {
    const fw = this.h.framework();
    const prio = pod.spec?.priority ?? 0;
    const ni = nodeInfo.clone();
    const st = state.clone();
    const lower = [...ni.pods.values()].filter((p) => p.priority < prio);
    if (lower.length === 0) return { status: Status.unresolvable(errNoVictims) };
    for (const p of lower) {
      ni.removePod(p.key);
      fw.runRemovePod(st, pod, p, ni);
    }
    const fits = fw.runFilters(st, pod, ni);
    if (!fits.isSuccess()) return { status: fits };
    // Most important first, so they are the ones reprieved.
    lower.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
    const { violating, ok } = this.splitByPDB(lower);
    const victims: PodInfo[] = [];
    let pdbViolations = 0;
    const reprieve = (p: PodInfo): boolean => {
      ni.addPod(p);
      fw.runAddPod(st, pod, p, ni);
      if (fw.runFilters(st, pod, ni).isSuccess()) return true;
      ni.removePod(p.key);
      fw.runRemovePod(st, pod, p, ni);
      victims.push(p);
      return false;
    };
    for (const p of violating) if (!reprieve(p)) pdbViolations++;
    for (const p of ok) reprieve(p);
    if (victims.length === 0) return { status: Status.unresolvable(errNoVictims) };
    return { node: ni.name, victims, pdbViolations };
  }

  /** Pods whose eviction would exceed a PodDisruptionBudget's allowed disruptions. */
  private splitByPDB(pods: PodInfo[]): { violating: PodInfo[]; ok: PodInfo[] } {
    const pdbs = (this.h.pdbs?.list() ?? []) as PodDisruptionBudget[];
    if (pdbs.length === 0) return { violating: [], ok: pods };
    const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
    const selectors = pdbs.map((p) => selectorFromLabelSelector(p.spec?.selector as LabelSelector | undefined));
    const violating: PodInfo[] = [];
    const ok: PodInfo[] = [];
    for (const p of pods) {
      let violates = false;
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata?.namespace !== p.pod.metadata?.namespace || selectors[i]!.empty() || !selectors[i]!.matches(p.pod.metadata?.labels ?? {})) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violates = true;
      });
      (violates ? violating : ok).push(p);
    }
    return { violating, ok };
  }

  private async evict(pod: Pod, c: Candidate): Promise<void> {
    const now = this.h.clock.now().toISOString().replace(/\.\d+Z$/, 'Z');
    await Promise.all(
      c.victims.map(async (v) => {
        const ns = v.pod.metadata?.namespace ?? '';
        const name = v.pod.metadata?.name ?? '';
        try {
          const fresh = (await this.h.client.get(refs.pods, ns, name)) as Pod;
          const conditions = (fresh.status?.conditions ?? []).filter((x) => x.type !== 'DisruptionTarget');
          conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: `default-scheduler: preempting to accommodate a higher priority pod`, lastTransitionTime: now });
          await this.h.client.update(refs.pods, ns, { ...fresh, status: { ...fresh.status, conditions } } as Parameters<Client['update']>[2], { subresource: 'status' }).catch(() => undefined);
          await this.h.client.delete(refs.pods, ns, name, { preconditions: v.pod.metadata?.uid ? { uid: v.pod.metadata.uid } : undefined });
          this.h.recorder.event(v.pod as Parameters<EventRecorder['event']>[0], 'Normal', 'Preempted', `Preempted by pod ${pod.metadata?.uid ?? ''} on node ${c.node}`);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }),
    );
  }
}

/** Kubernetes' pickOneNodeForPreemption criteria, in order. */
export function pickCandidate(cs: Candidate[]): Candidate {
  const stats = cs.map((c) => {
    const prios = c.victims.map((v) => v.priority);
    const highest = Math.max(...prios);
    const earliestOfHighest = Math.min(...c.victims.filter((v) => v.priority === highest).map(startTime));
    return { c, highest, sum: prios.reduce((a, b) => a + b + 2147483648, 0), n: c.victims.length, earliestOfHighest };
  });
  stats.sort((a, b) => a.c.pdbViolations - b.c.pdbViolations || a.highest - b.highest || a.sum - b.sum || a.n - b.n || b.earliestOfHighest - a.earliestOfHighest);
  return stats[0]!.c;
}

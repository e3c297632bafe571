import { indexes, refs } from '../client/informer.js';
import { isNotFound, type ApiObject } from '../client/interface.js';
import { Controller, type ControllerContext } from './controller.js';
import { asApiObject, controllerRef, isPodReady, newControllerRef, podFromTemplate } from './pod-control.js';

interface JobSpec {
  parallelism?: number;
  completions?: number;
  completionMode?: 'NonIndexed' | 'Indexed';
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
}

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  ready?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  completedIndexes?: string;
  conditions?: JobCondition[];
  uncountedTerminatedPods?: unknown;
}

const completionIndexKey = 'batch.kubernetes.io/job-completion-index';
/** Pod creation back-off after failures: 10 s doubling to 6 min, as Kubernetes does. */
const backoffBaseMs = 10_000;
const backoffMaxMs = 6 * 60_000;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function phaseOf(pod: ApiObject): string {
  return ((pod['status'] as { phase?: string } | undefined)?.phase) ?? 'Pending';
}

function finishedAt(pod: ApiObject): number {
  const statuses = ((pod['status'] as { containerStatuses?: Array<{ state?: { terminated?: { finishedAt?: string } } }> } | undefined)?.containerStatuses) ?? [];
  const times = statuses.map((s) => Date.parse(s.state?.terminated?.finishedAt ?? '')).filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : Date.parse(pod.metadata?.['creationTimestamp'] as string ?? '') || 0;
}

/** `0,1,2,4` → `0-2,4`, as Job's completedIndexes. */
export function formatIndexes(indexes: number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function parseIndexes(s: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (s ?? '').split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    if (b === undefined) out.push(a!);
    else for (let i = a!; i <= b; i++) out.push(i);
  }
  return out;
}

/**
 * The Job controller: runs pods until `completions` succeed (NonIndexed or Indexed), at most
 * `parallelism` at once, giving up after `backoffLimit` failures or `activeDeadlineSeconds`;
 * status and the Complete/Failed conditions as Kubernetes reports them.
 */
export class JobController extends Controller {
  readonly name = 'job';
  /**
   * Expectations: pods this controller created that the cache does not show yet, by job uid →
   * pod uid → expiry. While any is outstanding the job creates nothing, or a sync on stale data
   * would start more than `parallelism` pods.
   */
  private readonly pendingCreates = new Map<string, Map<string, number>>();

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    const jobs = this.ctx.informers.for(refs.jobs);
    jobs.addEventHandler({ onAdd: (j) => this.enqueue(j), onUpdate: (_o, j) => this.enqueue(j) });
    const pods = this.ctx.informers.for(refs.pods);
    pods.addIndexer('controller-uid', indexes.controllerUid);
    const enqueueOwner = (p: ApiObject): void => {
      const ref = controllerRef(p);
      if (ref?.kind === 'Job' && p.metadata?.namespace) this.queue.add(`${p.metadata.namespace}/${ref.name}`);
    };
    pods.addEventHandler({ onAdd: enqueueOwner, onUpdate: (_o, p) => enqueueOwner(p), onDelete: enqueueOwner });
  }

  async reconcile(key: string): Promise<void> {
    const job = this.ctx.informers.for(refs.jobs).getByKey(key);
    if (!job || job.metadata?.deletionTimestamp) return;
    const spec = (job['spec'] ?? {}) as JobSpec;
    const status: JobStatus = structuredClone((job['status'] ?? {}) as JobStatus);
    const conditions = status.conditions ?? [];
    if (conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) return;
    const now = this.ctx.clock.now();
    const ns = job.metadata?.namespace ?? '';
    const recorder = this.ctx.recorder('job-controller');
    const pods = this.ctx.informers.for(refs.pods).byIndex('controller-uid', job.metadata?.uid ?? '');
    const pending = this.pendingCreates.get(job.metadata?.uid ?? '');
    for (const [uid, expiry] of pending ?? []) if (expiry < now.getTime() || pods.some((p) => p.metadata?.uid === uid)) pending?.delete(uid);
    const settled = !pending?.size;
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? undefined;
    const parallelism = spec.parallelism ?? 1;

    if (spec.suspend) {
      for (const p of pods.filter((p) => !['Succeeded', 'Failed'].includes(phaseOf(p)) && !p.metadata?.deletionTimestamp)) await this.deletePod(ns, p);
      status.active = 0;
      return this.writeStatus(job, status);
    }
    if (!status.startTime) status.startTime = rfc3339(now);

    const active = pods.filter((p) => !['Succeeded', 'Failed'].includes(phaseOf(p)) && !p.metadata?.deletionTimestamp);
    const succeededPods = pods.filter((p) => phaseOf(p) === 'Succeeded');
    const failedPods = pods.filter((p) => phaseOf(p) === 'Failed');
    // Counts never go down, even if finished pods are removed by someone else.
    status.succeeded = Math.max(status.succeeded ?? 0, succeededPods.length);
    status.failed = Math.max(status.failed ?? 0, failedPods.length);
    status.active = active.length;
    status.ready = active.filter((p) => isPodReady(p as Parameters<typeof isPodReady>[0])).length;
    let doneIndexes: number[] = [];
    if (indexed) {
      doneIndexes = [...parseIndexes(status.completedIndexes), ...succeededPods.map((p) => Number(p.metadata?.annotations?.[completionIndexKey])).filter((n) => Number.isInteger(n))];
      status.completedIndexes = formatIndexes(doneIndexes) || undefined;
      status.succeeded = new Set(doneIndexes).size;
    }

    const fail = async (reason: string, message: string): Promise<void> => {
      for (const p of active) await this.deletePod(ns, p);
      status.active = 0;
      status.conditions = [...conditions, { type: 'FailureTarget', status: 'True', reason, message, lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) }, { type: 'Failed', status: 'True', reason, message, lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) }];
      recorder.event(job, 'Warning', reason, message);
      await this.writeStatus(job, status);
    };
    const backoffLimit = spec.backoffLimit ?? 6;
    if ((status.failed ?? 0) > backoffLimit) return fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    if (spec.activeDeadlineSeconds !== undefined) {
      const deadline = Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000;
      if (now.getTime() >= deadline) return fail('DeadlineExceeded', 'Job was active longer than specified deadline');
      this.queue.addAfter(key, deadline - now.getTime());
    }

    const target = completions ?? (status.succeeded ? 0 : parallelism);
    const complete = completions !== undefined ? (status.succeeded ?? 0) >= completions : (status.succeeded ?? 0) > 0 && active.length === 0;
    if (complete) {
      for (const p of active) await this.deletePod(ns, p);
      status.active = 0;
      status.completionTime = rfc3339(now);
      status.conditions = [
        ...conditions,
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) },
      ];
      recorder.event(job, 'Normal', 'Completed', 'Job completed');
      return this.writeStatus(job, status);
    }

    // Back off pod creation after failures.
    const failures = status.failed ?? 0;
    if (failures > 0) {
      const last = Math.max(...failedPods.map(finishedAt), 0);
      const wait = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (failures - 1)) - (now.getTime() - last);
      if (last && wait > 0) {
        this.queue.addAfter(key, wait);
        return this.writeStatus(job, status);
      }
    }

    const wantActive = Math.max(0, Math.min(parallelism, (completions ?? target) - (status.succeeded ?? 0)));
    if (!settled) {
      this.queue.addAfter(key, 1000);
      return this.writeStatus(job, status);
    }
    if (indexed && completions !== undefined) {
      const busy = new Set([...doneIndexes, ...active.map((p) => Number(p.metadata?.annotations?.[completionIndexKey]))]);
      let toCreate = wantActive - active.length;
      for (let i = 0; i < completions && toCreate > 0; i++) {
        if (busy.has(i)) continue;
        await this.createPod(job, spec, i);
        toCreate--;
        status.active = (status.active ?? 0) + 1;
      }
    } else {
      for (let i = active.length; i < wantActive; i++) {
        await this.createPod(job, spec, undefined);
        status.active = (status.active ?? 0) + 1;
      }
      for (const p of active.slice(wantActive)) await this.deletePod(ns, p);
    }
    await this.writeStatus(job, status);
  }

  private async createPod(job: ApiObject, spec: JobSpec, index: number | undefined): Promise<void> {
    const template = structuredClone(spec.template ?? {});
    if (index !== undefined) {
      template.metadata = {
        ...template.metadata,
        labels: { ...template.metadata?.labels, [completionIndexKey]: String(index) },
        annotations: { ...template.metadata?.annotations, [completionIndexKey]: String(index) },
      };
      const podSpec = (template.spec ??= {}) as { containers?: Array<{ env?: Array<{ name: string; value?: string; valueFrom?: unknown }> }>; hostname?: string };
      for (const c of podSpec.containers ?? []) {
        c.env = [...(c.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${completionIndexKey}']` } } }];
      }
      podSpec.hostname = `${job.metadata?.name}-${index}`;
    }
    const owner = newControllerRef(job, 'batch/v1', 'Job');
    const pod = asApiObject(podFromTemplate(template as Parameters<typeof podFromTemplate>[0], job, owner));
    if (index !== undefined) pod.metadata = { ...pod.metadata, generateName: `${job.metadata?.name}-${index}-` };
    const created = await this.ctx.client.create(refs.pods, job.metadata?.namespace ?? '', pod);
    const uid = job.metadata?.uid ?? '';
    if (!this.pendingCreates.has(uid)) this.pendingCreates.set(uid, new Map());
    this.pendingCreates.get(uid)!.set(created.metadata?.uid ?? '', this.ctx.clock.now().getTime() + 30_000);
    this.ctx.recorder('job-controller').event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
  }

  private async deletePod(ns: string, pod: ApiObject): Promise<void> {
    try {
      await this.ctx.client.delete(refs.pods, ns, pod.metadata?.name ?? '');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async writeStatus(job: ApiObject, status: JobStatus): Promise<void> {
    if (JSON.stringify(status) === JSON.stringify(job['status'] ?? {})) return;
    try {
      const fresh = await this.ctx.client.get(refs.jobs, job.metadata?.namespace ?? '', job.metadata?.name ?? '');
      await this.ctx.client.update(refs.jobs, job.metadata?.namespace ?? '', { ...fresh, status }, { subresource: 'status' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

// The TTL controller lives in its own file; re-exported for existing imports.
export { TTLAfterFinishedController } from './ttl-after-finished.js';

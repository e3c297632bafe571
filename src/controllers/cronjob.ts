import { indexes, refs } from '../client/informer.js';
import { ApiError, isNotFound, type ApiObject } from '../client/interface.js';
import { parseCron } from '../machinery/cron.js';
import { Controller, type ControllerContext } from './controller.js';
import { controllerRef, newControllerRef } from './pod-control.js';

interface CronJobSpec {
  schedule: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  suspend?: boolean;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
}

interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string;
}

const scheduledTimestampKey = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Kubernetes gives up on catching up after this many missed runs. */
const maxMissed = 100;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function finishedType(job: ApiObject): 'Complete' | 'Failed' | undefined {
  const conditions = ((job['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions) ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return 'Complete';
  if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) return 'Failed';
  return undefined;
}

/**
 * The CronJob controller: creates a Job `<name>-<minutes since epoch>` at each scheduled time
 * (cron syntax, optional time zone), honours concurrencyPolicy, suspend and
 * startingDeadlineSeconds, tracks active Jobs and prunes finished ones past the history limits.
 */
export class CronJobController extends Controller {
  readonly name = 'cronjob';

  constructor(ctx: ControllerContext) {
    super(ctx);
  }

  setup(): void {
    this.ctx.informers.for(refs.cronjobs).addEventHandler({ onAdd: (c) => this.enqueue(c), onUpdate: (_o, c) => this.enqueue(c) });
    const jobs = this.ctx.informers.for(refs.jobs);
    jobs.addIndexer('controller-uid', indexes.controllerUid);
    const owner = (j: ApiObject): void => {
      const ref = controllerRef(j);
      if (ref?.kind === 'CronJob' && j.metadata?.namespace) this.queue.add(`${j.metadata.namespace}/${ref.name}`);
    };
    jobs.addEventHandler({ onAdd: owner, onUpdate: (_o, j) => owner(j), onDelete: owner });
  }

  async reconcile(key: string): Promise<void> {
    const cj = this.ctx.informers.for(refs.cronjobs).getByKey(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const spec = cj['spec'] as CronJobSpec;
    const ns = cj.metadata?.namespace ?? '';
    const now = this.ctx.clock.now();
    const recorder = this.ctx.recorder('cronjob-controller');
    const status = structuredClone((cj['status'] ?? {}) as { active?: ObjectReference[]; lastScheduleTime?: string; lastSuccessfulTime?: string });
    const jobs = this.ctx.informers.for(refs.jobs).byIndex('controller-uid', cj.metadata?.uid ?? '');

    // Active jobs and the last success.
    const running = jobs.filter((j) => !finishedType(j) && !j.metadata?.deletionTimestamp);
    for (const j of jobs) {
      if (finishedType(j) === 'Complete') {
        const done = String((j['status'] as { completionTime?: string } | undefined)?.completionTime ?? '');
        if (done && (!status.lastSuccessfulTime || done > status.lastSuccessfulTime)) {
          if (status.active?.some((a) => a.uid === j.metadata?.uid)) recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name}, condition: Complete`);
          status.lastSuccessfulTime = done;
        }
      }
    }
    status.active = running.map((j) => ({ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata?.name ?? '', namespace: ns, uid: j.metadata?.uid ?? '', resourceVersion: j.metadata?.resourceVersion }));
    if (!status.active.length) delete status.active;

    await this.pruneHistory(cj, jobs, spec);

    let schedule;
    try {
      schedule = parseCron(spec.schedule);
    } catch (e) {
      recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${(e as Error).message}`);
      return;
    }
    const base = new Date(status.lastScheduleTime ?? String(cj.metadata?.['creationTimestamp'] ?? rfc3339(now)));
    // The most recent scheduled time that has passed and not been run.
    let due: Date | undefined;
    let missed = 0;
    for (let t = schedule.next(base, spec.timeZone); t && t.getTime() <= now.getTime(); t = schedule.next(t, spec.timeZone)) {
      due = t;
      if (++missed > maxMissed) {
        recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        break;
      }
    }
    const next = schedule.next(due ?? now, spec.timeZone) ?? schedule.next(now, spec.timeZone);
    if (next) this.queue.addAfter(key, Math.max(100, next.getTime() - now.getTime() + 100));

    if (due && !spec.suspend) {
      const tooLate = spec.startingDeadlineSeconds !== undefined && now.getTime() - due.getTime() > spec.startingDeadlineSeconds * 1000;
      const policy = spec.concurrencyPolicy ?? 'Allow';
      if (tooLate) {
        recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339(due)}`);
        status.lastScheduleTime = rfc3339(due);
      } else if (policy === 'Forbid' && running.length) {
        recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      } else {
        if (policy === 'Replace') {
          for (const j of running) {
            await this.ctx.client.delete(refs.jobs, ns, j.metadata?.name ?? '', { propagationPolicy: 'Background' }).catch((e: unknown) => {
              if (!isNotFound(e)) throw e;
            });
            recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata?.name}`);
          }
          delete status.active;
        }
        const created = await this.createJob(cj, spec, due);
        if (created) {
          recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
          status.active = [...(status.active ?? []), { apiVersion: 'batch/v1', kind: 'Job', name: created.metadata?.name ?? '', namespace: ns, uid: created.metadata?.uid ?? '', resourceVersion: created.metadata?.resourceVersion }];
        }
        status.lastScheduleTime = rfc3339(due);
      }
    }
    if (JSON.stringify(status) !== JSON.stringify(cj['status'] ?? {})) {
      const fresh = await this.ctx.client.get(refs.cronjobs, ns, cj.metadata?.name ?? '');
      await this.ctx.client.update(refs.cronjobs, ns, { ...fresh, status }, { subresource: 'status' });
    }
  }

  private async createJob(cj: ApiObject, spec: CronJobSpec, at: Date): Promise<ApiObject | undefined> {
    const name = `${cj.metadata?.name}-${Math.floor(at.getTime() / 60000)}`;
    const template = spec.jobTemplate ?? {};
    const job: ApiObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata?.namespace,
        labels: { ...template.metadata?.labels },
        annotations: { ...template.metadata?.annotations, [scheduledTimestampKey]: rfc3339(at) },
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: structuredClone(template.spec ?? {}),
    };
    try {
      return await this.ctx.client.create(refs.jobs, cj.metadata?.namespace ?? '', job);
    } catch (e) {
      // Already created for this time (e.g. after a restart): nothing to do.
      if (e instanceof ApiError && e.reason === 'AlreadyExists') return undefined;
      throw e;
    }
  }

  private async pruneHistory(cj: ApiObject, jobs: ApiObject[], spec: CronJobSpec): Promise<void> {
    const byAge = (a: ApiObject, b: ApiObject): number => String(a.metadata?.['creationTimestamp']).localeCompare(String(b.metadata?.['creationTimestamp']));
    for (const [type, limit] of [['Complete', spec.successfulJobsHistoryLimit ?? 3], ['Failed', spec.failedJobsHistoryLimit ?? 1]] as const) {
      const finished = jobs.filter((j) => finishedType(j) === type && !j.metadata?.deletionTimestamp).sort(byAge);
      for (const j of finished.slice(0, Math.max(0, finished.length - limit))) {
        await this.ctx.client.delete(refs.jobs, j.metadata?.namespace ?? '', j.metadata?.name ?? '', { propagationPolicy: 'Background' }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
        this.ctx.recorder('cronjob-controller').event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata?.name}`);
      }
    }
  }
}

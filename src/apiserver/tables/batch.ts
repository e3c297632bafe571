/** Printers for the `batch` group: jobs and cron jobs. */

import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import { humanDuration, parseTimestamp, translateTimestampSince } from './age.js';
import { boolPtr, containerCells, formatLabelSelector } from './format.js';
import { ageColumn, column, definePrinter, nameColumn, type Printer } from './table.js';

const CONTAINERS_DESC = 'Names of each container in the template.';
const IMAGES_DESC = 'Images referenced by each container in the template.';
const SELECTOR_DESC = 'A label query over pods that should match the pod count.';

/** `hasJobCondition`: the first condition of that type decides. */
function hasCondition(conditions: readonly JobCondition[] | undefined, type: string): boolean {
  const c = (conditions ?? []).find((x) => x.type === type);
  return c?.status === 'True';
}

/** The STATUS cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running. */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasCondition(conditions, 'Complete')) return 'Complete';
  if (hasCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: Date): string {
  const start = parseTimestamp(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTimestamp(job.status?.completionTime);
  return humanDuration((end ?? now.getTime()) - start);
}

const jobPrinter = definePrinter<Job>(
  [
    nameColumn(),
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
    column('Selector', 'string', SELECTOR_DESC, 1),
  ],
  (job, now) => {
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [
      job.metadata?.name ?? '',
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      translateTimestampSince(job.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(job.spec?.selector),
    ];
  },
);

const cronJobPrinter = definePrinter<CronJob>(
  [
    nameColumn(),
    column('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    column('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.'),
    column('Active', 'integer', 'A list of pointers to currently running jobs.'),
    column('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
    column('Selector', 'string', SELECTOR_DESC, 1),
  ],
  (cj, now) => {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime;
    return [
      cj.metadata?.name ?? '',
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      boolPtr(cj.spec?.suspend),
      (cj.status?.active ?? []).length,
      last ? translateTimestampSince(last, now) : '<none>',
      translateTimestampSince(cj.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
);

export const printers: Record<string, Printer> = {
  'batch/jobs': jobPrinter,
  'batch/cronjobs': cronJobPrinter,
};

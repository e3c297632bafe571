/**
 * batch/v1 CronJob: defaults (concurrencyPolicy Allow, suspend false, history limits 3 and 1),
 * validation (`ValidateCronJobCreate`/`Update`: a cron schedule robfig/cron accepts, no TZ in
 * the schedule, a known timeZone, a job template whose selector is left to be generated) and a
 * status written only through `/status`.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { CronParseError, isValidTimeZone, parseCron } from '../../../../machinery/cron.js';
import { defaultPodTemplateSpec } from '../core/pod-spec-defaults.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { invalid, isObj, nonNegative, notSupported, objAt, required, setDefault, validateLabels } from '../group-checks.js';
import { specOf } from '../apps/workload-checks.js';
import { validateJobSpecBody } from './jobs.js';

const concurrencyPolicies = ['Allow', 'Forbid', 'Replace'];
/** Job names are `<cronjob>-<11 characters>` and must fit a 63-character label. */
export const maxCronJobNameLength = 52;
const validTimeZoneCharacters = /^[A-Za-z.\-_0-9+]{1,14}$/;

export function defaultCronJob(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  const jobSpec = objAt(objAt(spec, 'jobTemplate'), 'spec');
  if (jobSpec) defaultPodTemplateSpec(jobSpec.template);
}

/** `validateScheduleFormat`. */
export function validateSchedule(schedule: string, allowTZ: boolean, timeZone: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseCron(schedule);
  } catch (e) {
    if (!(e instanceof CronParseError)) throw e;
    errs.push(invalid(path, schedule, e.message));
  }
  if (schedule.includes('TZ')) {
    if (!allowTZ) errs.push(invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    else if (timeZone !== undefined && timeZone !== null) errs.push(invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  }
  return errs;
}

/** `validateTimeZone`. */
export function validateTimeZone(tz: unknown, path: string): FieldError[] {
  if (tz === undefined || tz === null) return [];
  if (typeof tz !== 'string' || tz.length === 0) return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !validTimeZoneCharacters.test(part)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  }
  if (tz.toLowerCase() === 'local') return [invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  if (!isValidTimeZone(tz)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  return [];
}

function validateCronJobSpec(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = typeof spec.schedule === 'string' ? spec.schedule : '';
  if (!schedule) errs.push(required('spec.schedule'));
  else {
    const allowTZ = typeof oldSpec?.schedule === 'string' && oldSpec.schedule.includes('TZ');
    errs.push(...validateSchedule(schedule, allowTZ, spec.timeZone, 'spec.schedule'));
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || oldSpec.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  const cp = spec.concurrencyPolicy;
  if (cp === undefined || cp === '') errs.push(required('spec.concurrencyPolicy'));
  else if (typeof cp !== 'string' || !concurrencyPolicies.includes(cp)) errs.push(notSupported('spec.concurrencyPolicy', cp, concurrencyPolicies));
  const jt = objAt(spec, 'jobTemplate') ?? {};
  const jtMeta = objAt(jt, 'metadata');
  if (jtMeta && isObj(jtMeta.labels)) errs.push(...validateLabels(jtMeta.labels as Record<string, string>, 'spec.jobTemplate.metadata.labels'));
  const jobSpec = objAt(jt, 'spec') ?? {};
  errs.push(...validateJobSpecBody(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec.selector !== undefined && jobSpec.selector !== null) errs.push(invalid('spec.jobTemplate.spec.selector', jobSpec.selector, '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

export function validateCronJob(obj: KubeObject): FieldError[] {
  const errs = validateCronJobSpec(isObj(obj.spec) ? obj.spec : {}, undefined);
  const name = obj.metadata?.name ?? '';
  if (name.length > maxCronJobNameLength) errs.push(invalid('metadata.name', name, `must be no more than ${maxCronJobNameLength} characters`));
  return errs;
}

/** Updates skip the 52-character name limit so older, longer-named CronJobs stay editable. */
export function validateCronJobUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return validateCronJobSpec(isObj(obj.spec) ? obj.spec : {}, isObj(old.spec) ? old.spec : {});
}

export function cronJobStrategy(): Strategy {
  return specStatusStrategy({
    default: defaultCronJob,
    validate: (obj) => validateCronJob(obj),
    validateUpdate: (obj, old) => validateCronJobUpdate(obj, old),
  });
}

/**
 * batch/v1 Job: defaults (`SetDefaults_Job`), the generated selector and template labels
 * (`batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`, `controller-uid`,
 * `job-name`) Kubernetes adds at create unless `manualSelector` is set, validation
 * (`ValidateJob`/`ValidateJobSpec`: restartPolicy OnFailure or Never) and the update rules
 * (selector, completionMode, podFailurePolicy immutable; the template only while a suspended
 * job has never started, and then only its scheduling directives and metadata).
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Label } from '../../../../machinery/name-validation.js';
import { defaultPodTemplateSpec } from '../core/pod-spec-defaults.js';
import { validatePodTemplateSpec } from '../core/pod-spec-validation.js';
import { specStatusStrategy, type KubeObject, type Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import {
  arrAt,
  child,
  goStringMap,
  immutable,
  immutableSelector,
  invalid,
  invalidGo,
  isObj,
  nonNegative,
  notSupported,
  objAt,
  required,
  setDefault,
  validateLabelSelector,
  type Obj,
} from '../group-checks.js';
import { selectorMatchesTemplate, selectorOf, specOf } from '../apps/workload-checks.js';

export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const jobNameLabel = 'batch.kubernetes.io/job-name';
export const legacyControllerUidLabel = 'controller-uid';
export const legacyJobNameLabel = 'job-name';
const maxInt32 = 2147483647;

/** `SetDefaults_Job` (batch/v1). */
export function defaultJob(obj: KubeObject): void {
  const spec = specOf(obj);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  if (spec.backoffLimit === undefined || spec.backoffLimit === null) spec.backoffLimit = spec.backoffLimitPerIndex !== undefined ? maxInt32 : 6;
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  const pfp = objAt(spec, 'podFailurePolicy');
  if (pfp) {
    for (const rule of arrAt(pfp, 'rules')) for (const c of arrAt(rule, 'onPodConditions')) if (isObj(c)) setDefault(c, 'status', 'True');
  }
  setDefault(spec, 'podReplacementPolicy', pfp ? 'Failed' : 'TerminatingOrFailed');
  setDefault(spec, 'manualSelector', false);
  defaultPodTemplateSpec(spec.template);
}

/**
 * `generateSelector`: labels the template with the job's name and uid and selects on the uid,
 * leaving labels the user set (validation then rejects wrong ones).
 */
export function generateJobSelector(obj: KubeObject): void {
  const spec = specOf(obj);
  if (spec.manualSelector === true) return;
  const name = obj.metadata?.name ?? '';
  const uid = obj.metadata?.uid ?? '';
  const template = child(spec, 'template');
  const meta = child(template, 'metadata');
  const labels = child(meta, 'labels') as Record<string, unknown>;
  for (const k of [legacyJobNameLabel, jobNameLabel]) setDefault(labels, k, name);
  for (const k of [legacyControllerUidLabel, controllerUidLabel]) setDefault(labels, k, uid);
  const selector = child(spec, 'selector');
  const matchLabels = child(selector, 'matchLabels');
  setDefault(matchLabels, controllerUidLabel, uid);
}

/** `ValidateHasLabel`. */
function hasLabel(labels: Record<string, string> | undefined, key: string, expected: string, path: string): FieldError[] {
  const actual = labels?.[key];
  if (actual === undefined) return [required(`${path}.labels[${key}]`, `must be '${expected}'`)];
  if (actual !== expected) return [invalidGo(`${path}.labels[${key}]`, goStringMap(labels), `must be '${expected}'`)];
  return [];
}

/** `validateGeneratedSelector`: the labels and selector `generateJobSelector` made are intact. */
function validateGeneratedSelector(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  if (spec.manualSelector === true) return [];
  const labels = objAt(objAt(spec.template, 'metadata'), 'labels') as Record<string, string> | undefined;
  if (!labels) return [];
  const uid = obj.metadata?.uid ?? '';
  const name = obj.metadata?.name ?? '';
  const path = 'spec.template.metadata';
  const errs = [
    ...hasLabel(labels, legacyControllerUidLabel, uid, path),
    ...hasLabel(labels, legacyJobNameLabel, name, path),
    ...hasLabel(labels, controllerUidLabel, uid, path),
    ...hasLabel(labels, jobNameLabel, name, path),
  ];
  const selector = objAt(spec, 'selector');
  if (!selector) return [...errs, required('spec.selector')];
  if (objAt(selector, 'matchLabels')?.[controllerUidLabel] !== uid) errs.push(invalid('spec.selector', selector, '`selector` not auto-generated'));
  return errs;
}

/** `validateJobSpec` without the selector (shared with CronJob job templates). */
export function validateJobSpecBody(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.parallelism, `${path}.parallelism`));
  errs.push(...nonNegative(spec.completions, `${path}.completions`));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`));
  errs.push(...nonNegative(spec.backoffLimit, `${path}.backoffLimit`));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`));
  errs.push(...nonNegative(spec.backoffLimitPerIndex, `${path}.backoffLimitPerIndex`));
  const mode = spec.completionMode;
  if (mode !== undefined) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed' && typeof spec.completions !== 'number') errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
  }
  if (spec.backoffLimitPerIndex !== undefined && mode !== 'Indexed') errs.push(required(`${path}.completionMode`, 'requires indexed completion mode'));
  const prp = spec.podReplacementPolicy;
  if (prp !== undefined && prp !== 'Failed' && prp !== 'TerminatingOrFailed') errs.push(notSupported(`${path}.podReplacementPolicy`, prp, ['Failed', 'TerminatingOrFailed']));
  else if (prp === 'TerminatingOrFailed' && spec.podFailurePolicy !== undefined) {
    errs.push(notSupported(`${path}.podReplacementPolicy`, prp, ['Failed']));
  }
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  const restart = objAt(objAt(spec, 'template'), 'spec')?.restartPolicy;
  if (restart !== 'OnFailure' && restart !== 'Never') {
    errs.push(notSupported(`${path}.template.spec.restartPolicy`, restart ?? '', ['OnFailure', 'Never']));
  } else if (restart === 'OnFailure' && spec.podFailurePolicy !== undefined) {
    errs.push(invalid(`${path}.template.spec.restartPolicy`, restart, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

/** `ValidateJobSpec` at `spec`: the body plus a selector that matches the template. */
export function validateJobSpec(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateJobSpecBody(spec, 'spec'));
  if (spec.selector === undefined || spec.selector === null) errs.push(required('spec.selector'));
  else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const selector = selectorOf(spec.selector);
  if (selector) errs.push(...selectorMatchesTemplate(selector, spec.template, 'spec.template'));
  return errs;
}

/** `ValidateJob`: generated-selector integrity, the spec, and Indexed pod hostnames. */
export function validateJob(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs = [...validateGeneratedSelector(obj), ...validateJobSpec(spec)];
  const completions = spec.completions;
  if (spec.completionMode === 'Indexed' && typeof completions === 'number' && completions > 0) {
    const name = obj.metadata?.name ?? '';
    const host = `${name}-${completions - 1}`;
    if (isDNS1123Label(host).length) errs.push(invalid('metadata.name', name, `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

/** The template fields a suspended, never-started job may still change. */
function schedulingDirectivesOnly(template: unknown, oldTemplate: unknown): boolean {
  const strip = (t: unknown): Obj => {
    const copy: Obj = isObj(t) ? structuredClone(t) : {};
    const meta = child(copy, 'metadata');
    delete meta.labels;
    delete meta.annotations;
    const spec = child(copy, 'spec');
    for (const k of ['nodeSelector', 'tolerations', 'schedulingGates', 'affinity']) delete spec[k];
    return copy;
  };
  return deepEqual(strip(template), strip(oldTemplate));
}

/** `ValidateJobUpdate` (spec part). */
export function validateJobUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  const errs = validateJob(obj);
  if (spec.completionMode === 'Indexed' && oldSpec.completionMode === 'Indexed') {
    // Elastic Indexed Jobs: completions may change together with parallelism.
    if (spec.completions !== oldSpec.completions && spec.completions !== spec.parallelism) {
      errs.push(invalid('spec.completions', spec.completions ?? null, 'can only be modified in tandem with spec.parallelism'));
    }
  } else {
    errs.push(...immutable(spec.completions, oldSpec.completions, 'spec.completions'));
  }
  errs.push(...immutableSelector(spec.selector, oldSpec.selector, 'spec.selector'));
  const status = objAt(old, 'status');
  const mutableScheduling = oldSpec.suspend === true && spec.suspend === true && !status?.startTime;
  const templateOk = mutableScheduling ? schedulingDirectivesOnly(spec.template, oldSpec.template) : deepEqual(spec.template, oldSpec.template);
  if (!templateOk) errs.push({ type: 'FieldValueInvalid', field: 'spec.template', detail: `${JSON.stringify(spec.template)}: field is immutable` });
  errs.push(...immutable(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'));
  if (!deepEqual(spec.podFailurePolicy, oldSpec.podFailurePolicy)) errs.push({ type: 'FieldValueInvalid', field: 'spec.podFailurePolicy', detail: 'field is immutable' });
  errs.push(...immutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  return errs;
}

export function validateJobStatus(obj: KubeObject): FieldError[] {
  const s = objAt(obj, 'status') ?? {};
  return ['active', 'succeeded', 'failed', 'ready', 'terminating'].flatMap((f) => nonNegative(s[f], `status.${f}`));
}

export function jobStrategy(): Strategy {
  const base = specStatusStrategy();
  return {
    ...base,
    default: defaultJob,
    prepareForCreate(obj, ctx) {
      void base.prepareForCreate?.(obj, ctx);
      generateJobSelector(obj);
      // Kubernetes' defaulting copies template labels to a Job that has none (it runs again on
      // every read from storage, after the generated labels exist).
      const meta = (obj.metadata ??= {});
      const labels = objAt(objAt(objAt(obj, 'spec'), 'template'), 'metadata')?.labels;
      if ((!meta.labels || Object.keys(meta.labels).length === 0) && isObj(labels)) meta.labels = { ...(labels as Record<string, string>) };
    },
    validate: (obj) => validateJob(obj),
    validateUpdate: (obj, old) => validateJobUpdate(obj, old),
    selectableFields: (obj) => ({ 'status.successful': String(objAt(obj, 'status')?.succeeded ?? 0) }),
    status: { validateUpdate: (obj) => validateJobStatus(obj) },
  };
}

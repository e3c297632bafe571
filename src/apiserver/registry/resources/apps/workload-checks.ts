/**
 * What the workload resources (apps, batch) share: the selector ↔ template-labels check with
 * Kubernetes' message, the "template must restart Always" rules, and selector presence.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { selectorFromLabelSelector, type Selector } from '../../../../machinery/labels.js';
import { StatusError } from '../../../../machinery/status-error.js';
import { validatePodTemplateSpec } from '../core/pod-spec-validation.js';
import { asLabelSelector, goLabelSelector, goStringMap, invalid, invalidGo, isObj, notSupported, objAt, required, validateLabelSelector, type Obj } from '../group-checks.js';

/** The selector as `LabelSelectorAsSelector` makes it, or undefined when it does not parse. */
export function selectorOf(ls: unknown): Selector | undefined {
  try {
    return selectorFromLabelSelector(asLabelSelector(ls));
  } catch (e) {
    if (e instanceof StatusError) return undefined;
    throw e;
  }
}

/** The template's labels (`spec.template.metadata.labels`). */
export function templateLabels(template: unknown): Record<string, string> | undefined {
  const labels = objAt(objAt(template, 'metadata'), 'labels');
  return labels as Record<string, string> | undefined;
}

/** `spec.template.metadata.labels: Invalid value: map[string]string{...}: \`selector\` does not match template \`labels\``. */
export function selectorMatchesTemplate(selector: Selector, template: unknown, templatePath: string): FieldError[] {
  const labels = templateLabels(template);
  if (selector.matches(labels ?? {})) return [];
  return [invalidGo(`${templatePath}.metadata.labels`, goStringMap(labels), '`selector` does not match template `labels`')];
}

/**
 * Selector checks of Deployments, ReplicaSets and StatefulSets: required, valid, not empty;
 * returns the parsed selector (a nil selector selects nothing, so the template check fails too).
 */
export function validateWorkloadSelector(ls: unknown, path: string, kindWord: string): { errs: FieldError[]; selector: Selector | undefined } {
  const errs: FieldError[] = [];
  if (ls === undefined || ls === null) {
    errs.push(required(path));
  } else {
    errs.push(...validateLabelSelector(ls, path));
    const sel = isObj(ls) ? ls : {};
    const count = Object.keys(isObj(sel.matchLabels) ? sel.matchLabels : {}).length + (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0);
    if (count === 0) errs.push(invalidGo(path, goLabelSelector(ls), `empty selector is invalid for ${kindWord}`));
  }
  const selector = selectorOf(ls);
  if (!selector) errs.push(invalidGo(path, goLabelSelector(ls), 'invalid label selector'));
  return { errs, selector };
}

/**
 * `ValidatePodTemplateSpecForReplicaSet` (Deployments and ReplicaSets; `kind` names the
 * resource in the activeDeadlineSeconds message).
 */
export function validateTemplateForReplicaSet(template: unknown, selector: Selector | undefined, templatePath: string, kind: string): FieldError[] {
  if (!isObj(template)) return [required(templatePath)];
  const errs: FieldError[] = [];
  if (selector && !selector.empty()) errs.push(...selectorMatchesTemplate(selector, template, templatePath));
  errs.push(...validatePodTemplateSpec(template, templatePath));
  errs.push(...restartAlways(template, templatePath));
  const ads = objAt(template, 'spec')?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) errs.push(invalid(`${templatePath}.spec.activeDeadlineSeconds`, ads, `activeDeadlineSeconds in ${kind} is not Supported`));
  return errs;
}

/** Templates of long-running workloads must use restartPolicy Always. */
export function restartAlways(template: unknown, templatePath: string): FieldError[] {
  const policy = objAt(template, 'spec')?.restartPolicy;
  if (policy === 'Always' || policy === undefined || policy === '') return [];
  return [notSupported(`${templatePath}.spec.restartPolicy`, policy, ['Always'])];
}

/** The spec object of a workload, created when absent (for defaulting). */
export function specOf(obj: { spec?: unknown }): Obj {
  if (!isObj(obj.spec)) obj.spec = {};
  return obj.spec as Obj;
}

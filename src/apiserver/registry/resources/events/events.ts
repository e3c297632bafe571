/**
 * events.k8s.io/v1 Event: the strict checks Kubernetes applies to events written through this
 * group (eventTime, type, reportingController/Instance, action, reason, note length, series)
 * and the immutability of everything but the series on update. These events are stored as
 * core/v1 Events (see event-conversion.ts), so the strategy sees core field names
 * (`involvedObject`, `message`, `reportingComponent`…), which are also the paths Kubernetes
 * reports, since it validates its internal (core-shaped) type.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import { isDNS1123Subdomain, validateQualifiedName } from '../../../../machinery/name-validation.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { invalid, isObj, objAt, required, strAt } from '../group-checks.js';

export const reportingInstanceLengthLimit = 128;
export const actionLengthLimit = 128;
export const reasonLengthLimit = 128;
export const noteLengthLimit = 1024;

function validateSeries(obj: KubeObject): FieldError[] {
  const series = objAt(obj, 'series');
  if (!series) return [];
  const errs: FieldError[] = [];
  if (typeof series.count !== 'number' || series.count < 2) errs.push(invalid('series.count', '', 'should be at least 2'));
  if (!series.lastObservedTime) errs.push(required('series.lastObservedTime'));
  return errs;
}

export function validateEvent(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = obj.metadata?.namespace ?? '';
  const regardingNs = strAt(objAt(obj, 'involvedObject'), 'namespace') ?? '';
  if (!regardingNs && namespace !== 'default' && namespace !== 'kube-system') {
    errs.push(invalid('involvedObject.namespace', regardingNs, 'does not match event.namespace'));
  }
  const controller = strAt(obj, 'reportingComponent') ?? '';
  if (!controller) errs.push(required('reportingController'));
  for (const m of validateQualifiedName(controller)) errs.push(invalid('reportingController', controller, m));
  const instance = strAt(obj, 'reportingInstance') ?? '';
  if (!instance) errs.push(required('reportingInstance'));
  if (instance.length > reportingInstanceLengthLimit) errs.push(invalid('reportingInstance', '', `can have at most ${reportingInstanceLengthLimit} characters`));
  const action = strAt(obj, 'action') ?? '';
  if (!action) errs.push(required('action'));
  if (action.length > actionLengthLimit) errs.push(invalid('action', '', `can have at most ${actionLengthLimit} characters`));
  const reason = strAt(obj, 'reason') ?? '';
  if (!reason) errs.push(required('reason'));
  if (reason.length > reasonLengthLimit) errs.push(invalid('reason', '', `can have at most ${reasonLengthLimit} characters`));
  const note = strAt(obj, 'message') ?? '';
  if (note.length > noteLengthLimit) errs.push(invalid('message', '', `can have at most ${noteLengthLimit} characters`));
  for (const m of isDNS1123Subdomain(namespace)) errs.push(invalid('namespace', namespace, m));
  return errs;
}

export function validateEventCreate(obj: KubeObject): FieldError[] {
  const errs = validateEvent(obj);
  errs.push(...validateSeries(obj));
  if (!obj.eventTime) errs.push(required('eventTime'));
  const type = strAt(obj, 'type') ?? '';
  if (type !== 'Normal' && type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${type}`));
  if (obj.firstTimestamp) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (obj.lastTimestamp) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (typeof obj.count === 'number' && obj.count !== 0) errs.push(invalid('count', '', 'needs to be unset'));
  const source = objAt(obj, 'source');
  if (source && (source.component || source.host)) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/** The stored (core/v1) field → the path Kubernetes reports it under. */
const immutableFields: [string, string][] = [
  ['involvedObject', 'involvedObject'],
  ['reason', 'reason'],
  ['message', 'message'],
  ['source', 'source'],
  ['firstTimestamp', 'firstTimestamp'],
  ['lastTimestamp', 'lastTimestamp'],
  ['count', 'count'],
  ['type', 'type'],
  ['eventTime', 'eventTime'],
  ['action', 'action'],
  ['related', 'related'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
];

export function validateEventUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateEvent(obj);
  if (!deepEqual(obj.series, old.series)) errs.push(...validateSeries(obj));
  for (const [v1, path] of immutableFields) {
    if (!deepEqual(obj[v1], old[v1])) {
      const v = obj[v1];
      errs.push(isObj(v) ? { type: 'FieldValueInvalid', field: path, detail: 'field is immutable' } : invalid(path, v ?? '', 'field is immutable'));
    }
  }
  return errs;
}

export function eventStrategy(): Strategy {
  return {
    validate: (obj) => validateEventCreate(obj),
    validateUpdate: (obj, old) => validateEventUpdate(obj, old),
    selectableFields(obj) {
      const involved = objAt(obj, 'involvedObject') ?? {};
      const fields: Record<string, string> = {
        reason: strAt(obj, 'reason') ?? '',
        type: strAt(obj, 'type') ?? '',
        source: strAt(objAt(obj, 'source'), 'component') ?? '',
        reportingComponent: strAt(obj, 'reportingComponent') ?? '',
        reportingController: strAt(obj, 'reportingComponent') ?? '',
      };
      // Both spellings: core's `involvedObject.*` and events.k8s.io's `regarding.*`.
      for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
        fields[`involvedObject.${k}`] = String(involved[k] ?? '');
        fields[`regarding.${k}`] = String(involved[k] ?? '');
      }
      return fields;
    },
  };
}

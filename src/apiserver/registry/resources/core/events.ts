/**
 * core/v1 Events: the involved object's namespace must be the event's own (or the event lives
 * in `default`/no namespace for cluster-scoped objects). Field selectors cover what
 * `kubectl describe` and `kubectl events` ask for.
 */
import type { FieldError } from '../../../../machinery/status-error.js';
import type { KubeObject, Strategy } from '../../strategy.js';
import { invalid, isObj, strAt, type Obj } from '../group-checks.js';
import { nonNegativeInt } from './core-checks.js';

export function validateEvent(ev: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const involved: Obj = isObj(ev.involvedObject) ? ev.involvedObject : {};
  const involvedNs = strAt(involved, 'namespace') ?? '';
  const ns = ev.metadata?.namespace ?? '';
  const mismatch = (): void => {
    errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  };
  if (ev.eventTime) {
    // "New" events (with eventTime) about cluster-scoped objects live in default or kube-system.
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') mismatch();
  } else if (!involvedNs) {
    if (ns !== '' && ns !== 'default') mismatch();
  } else if (ns !== involvedNs) {
    mismatch();
  }
  errs.push(...nonNegativeInt(ev.count, 'count'));
  return errs;
}

/** `getEventSelectableFields`. */
export function eventSelectableFields(ev: KubeObject): Record<string, string> {
  const io: Obj = isObj(ev.involvedObject) ? ev.involvedObject : {};
  const source: Obj = isObj(ev.source) ? ev.source : {};
  const s = (o: Obj, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  return {
    'involvedObject.kind': s(io, 'kind'),
    'involvedObject.namespace': s(io, 'namespace'),
    'involvedObject.name': s(io, 'name'),
    'involvedObject.uid': s(io, 'uid'),
    'involvedObject.apiVersion': s(io, 'apiVersion'),
    'involvedObject.resourceVersion': s(io, 'resourceVersion'),
    'involvedObject.fieldPath': s(io, 'fieldPath'),
    reason: s(ev, 'reason'),
    reportingComponent: s(ev, 'reportingComponent'),
    source: s(source, 'component'),
    type: s(ev, 'type'),
  };
}

export const eventStrategy: Strategy = {
  // The event recorder PUTs aggregated events; Kubernetes lets that create them.
  allowCreateOnUpdate: true,
  validate: (obj) => validateEvent(obj),
  validateUpdate: (obj) => validateEvent(obj),
  selectableFields: eventSelectableFields,
};

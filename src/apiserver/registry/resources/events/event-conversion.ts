import type { VersionConverter } from '../../generic-store.js';
import type { KubeObject } from '../../strategy.js';

/** events.k8s.io/v1 field ↔ core/v1 field, as Kubernetes converts them (both share one storage). */
const renames: Array<[string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];

function rename(obj: KubeObject, pairs: Array<[string, string]>, apiVersion: string): KubeObject {
  const out: KubeObject = { ...obj, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

/**
 * events.k8s.io/v1 Events are stored as core/v1 Events, so `kubectl get events` and
 * `kubectl describe` see what components record through either API.
 */
export const eventsV1Converter: VersionConverter = {
  storageApiVersion: 'v1',
  toStorage: (obj) => rename(obj, renames, 'v1'),
  fromStorage: (obj) => rename(obj, renames.map(([a, b]) => [b, a]), 'events.k8s.io/v1'),
};

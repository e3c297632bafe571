/**
 * Event printers: LAST SEEN TYPE REASON OBJECT MESSAGE (wide SUBOBJECT SOURCE FIRST SEEN COUNT NAME).
 * `events.k8s.io/v1` Events are the same stored objects under other field names, so they are
 * mapped onto the core shape and printed identically, as Kubernetes does.
 */

import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { translateTimestampSince } from './age.js';
import { column, definePrinter, NAME_DESCRIPTION, type Printer, type TableColumnDefinition } from './table.js';

const eventColumns: TableColumnDefinition[] = [
  column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 'string', 'The object that this event is about.'),
  column('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].', 1),
  column('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
  column('Message', 'string', 'A human-readable description of the status of this operation.'),
  column('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
  column('Count', 'string', 'The number of times this event has occurred.', 1),
  column('Name', 'string', NAME_DESCRIPTION, 1, 'name'),
];

function eventCells(e: CoreEvent, now: Date): unknown[] {
  const firstSeen = e.firstTimestamp ? translateTimestampSince(e.firstTimestamp, now) : translateTimestampSince(e.eventTime, now);
  let lastSeen = e.lastTimestamp ? translateTimestampSince(e.lastTimestamp, now) : firstSeen;
  let count = e.count ?? 0;
  if (e.series) {
    lastSeen = translateTimestampSince(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    // Singleton events of the new API carry no count.
    count = 1;
  }
  const kind = (e.involvedObject?.kind ?? '').toLowerCase();
  const target = e.involvedObject?.name ? `${kind}/${e.involvedObject.name}` : kind;
  const component = e.source?.component || e.reportingComponent || '';
  const host = e.source?.host || e.reportingInstance || '';
  const source = host ? `${component}, ${host}` : component;
  return [
    lastSeen,
    e.type ?? '',
    e.reason ?? '',
    target,
    e.involvedObject?.fieldPath ?? '',
    source,
    (e.message ?? '').trim(),
    firstSeen,
    count,
    e.metadata?.name ?? '',
  ];
}

/** Maps an events.k8s.io/v1 Event onto the core/v1 field names. */
export function eventsV1ToCore(e: EventsV1Event): CoreEvent {
  const core: CoreEvent = {
    metadata: e.metadata ?? {},
    involvedObject: e.regarding ?? {},
  };
  if (e.note !== undefined) core.message = e.note;
  if (e.type !== undefined) core.type = e.type;
  if (e.reason !== undefined) core.reason = e.reason;
  if (e.action !== undefined) core.action = e.action;
  if (e.eventTime !== undefined) core.eventTime = e.eventTime;
  if (e.reportingController !== undefined) core.reportingComponent = e.reportingController;
  if (e.reportingInstance !== undefined) core.reportingInstance = e.reportingInstance;
  if (e.deprecatedSource !== undefined) core.source = e.deprecatedSource;
  if (e.deprecatedFirstTimestamp !== undefined) core.firstTimestamp = e.deprecatedFirstTimestamp;
  if (e.deprecatedLastTimestamp !== undefined) core.lastTimestamp = e.deprecatedLastTimestamp;
  if (e.deprecatedCount !== undefined) core.count = e.deprecatedCount;
  if (e.series !== undefined) core.series = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  if (e.related !== undefined) core.related = e.related;
  return core;
}

export const eventPrinter: Printer = definePrinter<CoreEvent>(eventColumns, eventCells);
export const eventsV1Printer: Printer = definePrinter<EventsV1Event>(eventColumns, (e, now) => eventCells(eventsV1ToCore(e), now));

export const printers: Record<string, Printer> = {
  '/events': eventPrinter,
  'events.k8s.io/events': eventsV1Printer,
};

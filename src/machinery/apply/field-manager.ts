import type { SchemaDefinitions } from '../openapi-schema.js';
import { StatusError, badRequest, type StatusCause } from '../status-error.js';
import { compareObjects, type Comparison } from './compare.js';
import { FieldSet, fieldSetFromObject, type FieldsV1 } from './field-set.js';
import { applyMerge } from './merge.js';
import { compareStrings, goJSON, isPlainObject, pathToString, valuesEqual, type Path } from './path-element.js';
import { ApplySchemaError, type TypeRef } from './schema-shape.js';

/** One entry of `metadata.managedFields`, as the API serves it. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  /** RFC 3339, seconds precision. */
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/** Turns the set of fields a manager tracks into another (reset fields: what a strategy overwrites). */
export type FieldFilter = (set: FieldSet) => FieldSet;

/** Drops `fields` and everything below them (Kubernetes' reset fields, e.g. `status` on the main resource). */
export function excludeFields(fields: FieldSet): FieldFilter {
  return (set) => set.recursiveDifference(fields);
}

/** Keeps only `fields` and what lies below them (e.g. `status` for the status subresource). */
export function includeOnlyFields(fields: FieldSet): FieldFilter {
  return (set) => FieldSet.fromPaths(set.paths().filter((p) => p.some((_, i) => fields.has(p.slice(0, i + 1)))));
}

const STATUS = FieldSet.fromPaths([[{ field: 'status' }]]);

/** The default tracking filter: the main resource never tracks `status`; the `status` subresource tracks only it. */
export function defaultFieldFilter(subresource: string | undefined): FieldFilter {
  return subresource === 'status' ? includeOnlyFields(STATUS) : excludeFields(STATUS);
}

const meta = (name: string): Path => [{ field: 'metadata' }, { field: name }];

/** Paths no manager ever owns (Kubernetes' stripMeta, plus deletionTimestamp which only the server sets). */
const STRIPPED = FieldSet.fromPaths([
  [{ field: 'apiVersion' }],
  [{ field: 'kind' }],
  [{ field: 'metadata' }],
  meta('name'),
  meta('namespace'),
  meta('creationTimestamp'),
  meta('selfLink'),
  meta('uid'),
  meta('clusterName'),
  meta('generation'),
  meta('managedFields'),
  meta('resourceVersion'),
  meta('deletionTimestamp'),
]);

/** Update managers kept before the oldest are folded into `ancient-changes`. */
const MAX_UPDATE_MANAGERS = 10;
const FIELD_MANAGER_MAX_LENGTH = 128;
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

interface ManagerState {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  set: FieldSet;
  time: string | undefined;
}

/** A manager's identity: apiVersion only counts for Update entries (an applier keeps one entry across versions). */
function managerId(m: { manager: string; operation: string; apiVersion: string; subresource: string }): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource]);
}

type Managers = Map<string, ManagerState>;

function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw: unknown, i) => {
    if (!isPlainObject(raw)) throw new Error(`managed fields entry ${i} must be an object`);
    const operation = raw['operation'];
    if (operation !== 'Apply' && operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    const apiVersion = raw['apiVersion'];
    if (typeof apiVersion !== 'string' || apiVersion.length < 1) throw new Error('apiVersion must not be empty');
    const fieldsType = raw['fieldsType'];
    if (fieldsType === undefined || fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    const manager = typeof raw['manager'] === 'string' ? raw['manager'] : '';
    const subresource = typeof raw['subresource'] === 'string' ? raw['subresource'] : '';
    const time = typeof raw['time'] === 'string' ? raw['time'] : undefined;
    const set = FieldSet.fromFieldsV1(raw['fieldsV1'] ?? {});
    const state: ManagerState = { manager, operation, apiVersion, subresource, set, time };
    out.set(managerId(state), state);
  });
  return out;
}

function timeSeconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const states = [...managers.values()].filter((m) => !m.set.isEmpty());
  states.sort(
    (p, q) =>
      compareStrings(p.operation, q.operation) ||
      timeSeconds(p.time) - timeSeconds(q.time) ||
      compareStrings(p.manager, q.manager) ||
      compareStrings(p.apiVersion, q.apiVersion) ||
      compareStrings(p.subresource, q.subresource),
  );
  return states.map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time !== undefined) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

/** `metadata.managedFields` of `[]` or `[{}]` in a request clears the history (Kubernetes' isResetManagedFields). */
function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  if (entries.length !== 1) return false;
  const only: unknown = entries[0];
  return isPlainObject(only) && Object.values(only).every((v) => v === undefined || v === null || v === '');
}

function formatTime(t: Date | string): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function metadataOf(obj: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const m = obj?.['metadata'];
  return isPlainObject(m) ? m : undefined;
}

/** A deep copy of `obj` without `metadata.managedFields`. */
function withoutManagedFields(obj: Record<string, unknown> | undefined): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(obj ?? {})) as Record<string, unknown>;
  const m = metadataOf(copy);
  if (m) delete m['managedFields'];
  return copy;
}

function withManagedFields(obj: Record<string, unknown>, managers: Managers): Record<string, unknown> {
  const entries = encodeManagedFields(managers);
  const m = metadataOf(obj) ?? {};
  if (entries.length > 0) m['managedFields'] = entries;
  else delete m['managedFields'];
  obj['metadata'] = m;
  return obj;
}

function filterComparison(c: Comparison, filter: FieldFilter): Comparison {
  return { added: filter(c.added), modified: filter(c.modified), removed: filter(c.removed) };
}

/** Folds the oldest Update entries into `ancient-changes` per apiVersion once there are more than ten. */
function capUpdateManagers(managers: Managers): void {
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([ia, a], [ib, b]) => timeSeconds(a.time) - timeSeconds(b.time) || compareStrings(ia, ib));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (const [id, m] of updaters) {
    if (length <= MAX_UPDATE_MANAGERS) break;
    const bucket: ManagerState = { manager: 'ancient-changes', operation: 'Update', apiVersion: m.apiVersion, subresource: '', set: FieldSet.empty(), time: m.time };
    const bucketId = managerId(bucket);
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!managers.has(bucketId)) {
      const firstState = managers.get(first);
      managers.delete(first);
      if (firstState) managers.set(bucketId, { ...bucket, set: firstState.set });
    }
    const existing = managers.get(bucketId)!;
    managers.set(bucketId, { ...existing, set: m.set.union(existing.set), time: m.time });
    managers.delete(id);
    length--;
  }
}

/**
 * Takes from every manager but `self` the fields that changed: modified or added ones are now
 * someone else's (an error unless `force`), removed ones are gone. Returns the conflicts found.
 */
function takeOwnership(managers: Managers, self: string | undefined, changes: Comparison, force: boolean): Map<string, FieldSet> {
  const taken = changes.modified.union(changes.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, m] of managers) {
    if (id === self) continue;
    const c = m.set.intersection(taken);
    if (!c.isEmpty()) conflicts.set(id, c);
  }
  if (!force && conflicts.size > 0) return conflicts;
  for (const [id, m] of [...managers]) {
    if (id === self) continue;
    const set = m.set.difference(conflicts.get(id) ?? FieldSet.empty()).difference(changes.removed);
    if (set.isEmpty()) managers.delete(id);
    else managers.set(id, { ...m, set });
  }
  return conflicts;
}

/** How conflict messages name a manager: `"kubectl-client-side-apply" using apps/v1`. */
function printManager(m: ManagerState): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

interface Conflict {
  manager: string;
  path: Path;
}

function listConflicts(managers: Managers, conflicts: Map<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  const ids = [...conflicts.keys()].sort((a, b) => compareStrings(printManager(managers.get(a)!), printManager(managers.get(b)!)));
  for (const id of ids) {
    for (const path of conflicts.get(id)!.paths()) out.push({ manager: printManager(managers.get(id)!), path });
  }
  return out;
}

/** The 409 Kubernetes answers for an apply that would take fields from other managers. */
export function applyConflictError(conflicts: ReadonlyArray<{ manager: string; path: Path }>): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}`, field: pathToString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${pathToString(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), pathToString(c.path)]);
    const lines: string[] = [];
    for (const manager of [...byManager.keys()].sort(compareStrings)) {
      lines.push(`conflicts with ${manager}:`);
      for (const p of byManager.get(manager)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

/**
 * The default field manager of a request without `?fieldManager=`: the user agent up to its first
 * `/`, printable characters only, at most 128 bytes (`kubectl/v1.32.0 (linux/amd64) …` → `kubectl`).
 */
export function managerFromUserAgent(userAgent: string): string {
  const head = userAgent.split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of head) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) continue;
    const len = new TextEncoder().encode(ch).length;
    if (bytes + len > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += len;
  }
  return out;
}

/** A create, update or patch (anything but apply), as the API server hands it to the field manager. */
export interface UpdateRequest {
  /** The stored object; undefined on create. For Kubernetes-identical entries on create, pass the kind's empty (Go zero-value) object. */
  live: Record<string, unknown> | undefined;
  /** The object about to be stored. Its `metadata.managedFields`, if non-empty, replace the live ones; `[]` or `[{}]` clears them. */
  updated: Record<string, unknown>;
  manager: string;
  operation?: 'Update';
  /** Group/version of the request, e.g. `apps/v1`. */
  apiVersion: string;
  time: Date | string;
  subresource?: string;
  /** Which fields are tracked; defaults to {@link defaultFieldFilter}. */
  fieldFilter?: FieldFilter;
}

/**
 * Records a non-apply write: the fields that changed between `live` and `updated` become the
 * manager's (merged into its existing Update entry, whose time is renewed), and leave every other
 * manager; removed fields leave everyone. Returns a copy of `updated` with new `metadata.managedFields`.
 * Never fails: when the object cannot be typed, the live managedFields are kept, as Kubernetes does.
 */
export function updateManagedFields(req: UpdateRequest, schema: TypeRef, defs: SchemaDefinitions): Record<string, unknown> {
  const filter = req.fieldFilter ?? defaultFieldFilter(req.subresource);
  const liveEntries = metadataOf(req.live)?.['managedFields'];
  const requestEntries = metadataOf(req.updated)?.['managedFields'];
  const decodeLive = (): Managers => {
    try {
      return decodeManagedFields(liveEntries);
    } catch {
      return new Map();
    }
  };
  let managers: Managers;
  if (req.subresource) {
    managers = decodeLive();
  } else if (isReset(requestEntries)) {
    managers = new Map();
  } else {
    try {
      managers = decodeManagedFields(requestEntries);
    } catch {
      managers = new Map();
    }
    if (managers.size === 0) managers = decodeLive();
  }

  const live = withoutManagedFields(req.live);
  const updated = withoutManagedFields(req.updated);
  let changes: Comparison;
  try {
    changes = filterComparison(compareObjects(live, updated, schema, defs), filter);
  } catch (err) {
    if (!(err instanceof ApplySchemaError)) throw err;
    const kept = updated;
    const m = metadataOf(kept) ?? {};
    if (Array.isArray(liveEntries)) m['managedFields'] = JSON.parse(JSON.stringify(liveEntries)) as unknown;
    kept['metadata'] = m;
    return kept;
  }

  takeOwnership(managers, undefined, changes, true);
  const mine = filter(changes.modified.union(changes.added)).difference(STRIPPED);
  if (!mine.isEmpty()) {
    const state: ManagerState = { manager: req.manager, operation: 'Update', apiVersion: req.apiVersion, subresource: req.subresource ?? '', set: mine, time: formatTime(req.time) };
    const id = managerId(state);
    const previous = managers.get(id);
    managers.set(id, previous ? { ...state, set: mine.union(previous.set) } : state);
  }
  capUpdateManagers(managers);
  return withManagedFields(updated, managers);
}

/** A server-side apply request (PATCH with `application/apply-patch+yaml`). */
export interface ApplyRequest {
  /** The stored object; undefined when the apply creates it. */
  live: Record<string, unknown> | undefined;
  /** The applied configuration, decoded. */
  applied: Record<string, unknown>;
  manager: string;
  force?: boolean;
  /** Group/version served at the request's URL, e.g. `apps/v1`. */
  apiVersion: string;
  /** Kind served at the request's URL; when given, the configuration must name the same kind. */
  kind?: string;
  time: Date | string;
  subresource?: string;
  fieldFilter?: FieldFilter;
}

function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const slash = av.indexOf('/');
  const group = slash >= 0 ? av.slice(0, slash) : '';
  const version = slash >= 0 ? av.slice(slash + 1) : av;
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

function describeObject(obj: Record<string, unknown>): string {
  const m = metadataOf(obj);
  const ns = typeof m?.['namespace'] === 'string' ? m['namespace'] : '';
  const name = typeof m?.['name'] === 'string' ? m['name'] : '';
  return `${ns}/${name}; ${gvkString(obj['apiVersion'], obj['kind'])}`;
}

/** The fields the last client-side apply set that still hold the values it set: a kubectl upgrading to server-side apply may take them. */
function fieldsFromLastApplied(live: Record<string, unknown>, apiVersion: string, schema: TypeRef, defs: SchemaDefinitions): FieldSet | undefined {
  const annotations = metadataOf(live)?.['annotations'];
  const text = isPlainObject(annotations) ? annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const last: unknown = JSON.parse(text);
    if (!isPlainObject(last) || last['apiVersion'] !== apiVersion) return undefined;
    const c = compareObjects(last, live, schema, defs);
    return fieldSetFromObject(last, schema, defs).difference(c.modified).difference(c.added).difference(c.removed);
  } catch {
    return undefined;
  }
}

/** The last-applied annotation kubectl would write for `applied`: Go's JSON of it (sorted keys) plus a newline. */
function lastAppliedValue(applied: Record<string, unknown>): string {
  const copy = JSON.parse(JSON.stringify(applied)) as Record<string, unknown>;
  const annotations = metadataOf(copy)?.['annotations'];
  if (isPlainObject(annotations)) delete annotations[LAST_APPLIED_ANNOTATION];
  return `${goJSON(copy)}\n`;
}

/**
 * Server-side apply: merges `applied` into `live`, removes what this manager applied before and
 * dropped (unless another manager owns it), and gives the manager exactly the fields of `applied`.
 * A field that another manager owns and whose value would change is a conflict: a 409 listing them
 * all, unless `force`, which takes them over. Applying a value equal to the live one shares the field.
 * Returns the object to store, with new `metadata.managedFields`.
 */
export function serverSideApply(req: ApplyRequest, schema: TypeRef, defs: SchemaDefinitions): Record<string, unknown> {
  const applied = req.applied;
  if (req.kind !== undefined && (applied['apiVersion'] !== req.apiVersion || applied['kind'] !== req.kind)) {
    throw badRequest(`invalid object type: ${gvkString(applied['apiVersion'], applied['kind'])}`);
  }
  if (applied['apiVersion'] !== req.apiVersion) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${typeof applied['apiVersion'] === 'string' ? applied['apiVersion'] : ''}, expected: ${req.apiVersion}`);
  }
  const appliedMeta = metadataOf(applied);
  if (appliedMeta && appliedMeta['managedFields'] !== undefined && appliedMeta['managedFields'] !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }

  let managers: Managers;
  try {
    managers = decodeManagedFields(metadataOf(req.live)?.['managedFields']);
  } catch (err) {
    throw new StatusError(500, 'InternalError', `failed to decode managed fields: ${(err as Error).message}`);
  }
  const filter = req.fieldFilter ?? defaultFieldFilter(req.subresource);
  const live = withoutManagedFields(req.live);
  const self: ManagerState = { manager: req.manager, operation: 'Apply', apiVersion: req.apiVersion, subresource: req.subresource ?? '', set: FieldSet.empty(), time: undefined };
  const selfId = managerId(self);

  const attempt = (force: boolean): { object: Record<string, unknown>; managers: Managers; conflicts: Map<string, FieldSet> } => {
    const ms: Managers = new Map([...managers].map(([id, m]) => [id, { ...m }]));
    let appliedSet: FieldSet;
    try {
      appliedSet = filter(fieldSetFromObject(applied, schema, defs, { rejectDuplicates: true }));
    } catch (err) {
      if (err instanceof ApplySchemaError) throw new StatusError(500, 'InternalError', `failed to create typed patch object (${describeObject(applied)}): ${err.message}`);
      throw err;
    }
    const previous = ms.get(selfId);
    let others = FieldSet.empty();
    for (const [id, m] of ms) if (id !== selfId) others = others.union(m.set);
    let object: Record<string, unknown>;
    let changes: Comparison;
    try {
      object = applyMerge(live, applied, schema, defs, previous?.set, { ownedByOthers: others, appliedSet }).object;
      changes = filterComparison(compareObjects(live, object, schema, defs), filter);
    } catch (err) {
      if (err instanceof ApplySchemaError) throw new StatusError(500, 'InternalError', `failed to create typed live object (${describeObject(live)}): ${err.message}`);
      throw err;
    }
    ms.set(selfId, { ...self, set: appliedSet, time: previous?.time });
    const conflicts = takeOwnership(ms, selfId, changes, force);
    return { object, managers: ms, conflicts };
  };

  let result = attempt(req.force === true);
  if (!req.force && result.conflicts.size > 0) {
    let remaining = listConflicts(result.managers, result.conflicts);
    // kubectl moving from client-side to server-side apply may take what its last client-side apply set.
    const allowed = req.manager === 'kubectl' ? fieldsFromLastApplied(live, req.apiVersion, schema, defs) : undefined;
    if (allowed) remaining = remaining.filter((c) => !allowed.has(c.path));
    if (remaining.length > 0) throw applyConflictError(remaining);
    result = attempt(true);
  }

  const { managers: ms } = result;
  let object = result.object;
  const mine = ms.get(selfId)!;
  const changed = !valuesEqual(live, object);
  const set = mine.set.difference(STRIPPED);
  if (set.isEmpty()) ms.delete(selfId);
  else ms.set(selfId, { ...mine, set, time: changed ? formatTime(req.time) : mine.time });
  if (!changed) object = live;

  if (req.manager === 'kubectl') {
    const annotations = metadataOf(object)?.['annotations'];
    if (isPlainObject(annotations) && typeof annotations[LAST_APPLIED_ANNOTATION] === 'string' && annotations[LAST_APPLIED_ANNOTATION] !== '') {
      annotations[LAST_APPLIED_ANNOTATION] = lastAppliedValue(applied);
      let size = 0;
      for (const [k, v] of Object.entries(annotations)) size += k.length + (typeof v === 'string' ? v.length : 0);
      if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
    }
  }
  return withManagedFields(object, ms);
}

/**
 * When an update changed nothing but managedFields timestamps, gives back the old managedFields so
 * the write is a no-op (Kubernetes' IgnoreManagedFieldsTimestampsTransformer). Returns `updated`
 * itself, or a copy of it carrying the old `metadata.managedFields`.
 */
export function ignoreManagedFieldsTimestamps(old: Record<string, unknown>, updated: Record<string, unknown>): Record<string, unknown> {
  const oldEntries = metadataOf(old)?.['managedFields'];
  const newEntries = metadataOf(updated)?.['managedFields'];
  if (!Array.isArray(oldEntries) || !Array.isArray(newEntries) || oldEntries.length !== newEntries.length) return updated;
  if (valuesEqual(oldEntries, newEntries)) return updated;
  const noTime = (e: unknown): unknown => {
    if (!isPlainObject(e)) return e;
    const { time: _time, ...rest } = e;
    return rest;
  };
  if (!oldEntries.every((e, i) => valuesEqual(noTime(e), noTime(newEntries[i])))) return updated;
  if (!valuesEqual(withoutManagedFields(old), withoutManagedFields(updated))) return updated;
  return { ...updated, metadata: { ...metadataOf(updated), managedFields: JSON.parse(JSON.stringify(oldEntries)) as unknown } };
}

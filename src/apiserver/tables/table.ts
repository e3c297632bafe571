/**
 * Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
 *
 * The API server always prints every column (Kubernetes' printers run with `Wide: true`);
 * clients hide columns whose `priority` is above 0 unless asked for `-o wide`.
 */

import { badRequest } from '../../machinery/status-error.js';

/** One column of a Table, as `metav1.TableColumnDefinition` (every field is always sent). */
export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type of the cells: `string`, `integer`, `number`, `boolean` or `date`. */
  type: string;
  /** OpenAPI format hint, e.g. `name` for the column that holds the object's name; often empty. */
  format: string;
  description: string;
  /** 0: shown by default; higher: shown only with `-o wide`. */
  priority: number;
}

/** A condition attached to a row, e.g. `Completed` for pods that finished. */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** One row of a Table: its cells, in column order, and the object it was printed from. */
export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** The full object, its PartialObjectMetadata, or null, as `includeObject` asked. */
  object: unknown;
}

/**
 * How one kind is printed. `row` is called once per object, with the request's time so ages are
 * computed against an injected clock; it returns one cell per column (all priorities) and must
 * not modify the object.
 */
export interface Printer {
  columns: TableColumnDefinition[];
  row(obj: unknown, now: Date): unknown[];
  /** Row conditions (only pods have them in Kubernetes); undefined when none. */
  conditions?(obj: unknown): TableRowCondition[] | undefined;
}

/** What each row's `object` carries; Kubernetes' default is `Metadata`. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The list metadata a Table carries (from the list, or the single object's resourceVersion). */
export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** The Table object as the API server sends it. */
export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: TableListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface ToTableOptions {
  /** `meta.k8s.io/v1` (default) or `meta.k8s.io/v1beta1`, as the Accept header asked. */
  apiVersion?: string;
  /** TableOptions.noHeaders: leave out the column definitions (used for watch events after the first). */
  noHeaders?: boolean;
}

export const TABLE_API_VERSION = 'meta.k8s.io/v1';

/** ObjectMeta's `name` documentation, used by every NAME column. */
export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

/** ObjectMeta's `creationTimestamp` documentation, used by every AGE column. */
export const AGE_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** A column definition; the shorthand the printer files use. */
export function column(name: string, type: string, description: string, priority = 0, format = ''): TableColumnDefinition {
  return { name, type, format, description, priority };
}

/** The NAME column every built-in printer starts with. */
export const nameColumn = (): TableColumnDefinition => column('Name', 'string', NAME_DESCRIPTION, 0, 'name');
/** The AGE column. */
export const ageColumn = (): TableColumnDefinition => column('Age', 'string', AGE_DESCRIPTION);

/**
 * Builds a Printer for objects of type T. The registry hands printers stored objects of the
 * right kind, so the narrowing from unknown is a trusted cast made in this one place.
 */
export function definePrinter<T>(
  columns: TableColumnDefinition[],
  row: (obj: T, now: Date) => unknown[],
  conditions?: (obj: T) => TableRowCondition[] | undefined,
): Printer {
  const printer: Printer = { columns, row: (obj, now) => row(obj as T, now) };
  if (conditions) printer.conditions = (obj) => conditions(obj as T);
  return printer;
}

/** The metadata of a plain JSON object, or an empty record. */
export function metadataOf(obj: unknown): Record<string, unknown> {
  if (obj !== null && typeof obj === 'object') {
    const m = (obj as Record<string, unknown>)['metadata'];
    if (m !== null && typeof m === 'object' && !Array.isArray(m)) return m as Record<string, unknown>;
  }
  return {};
}

function nameOf(obj: unknown): string {
  const n = metadataOf(obj)['name'];
  return typeof n === 'string' ? n : '';
}

/** RFC 3339 in UTC at whole seconds, as Go's `time.RFC3339` formats a `metav1.Time`. */
export function formatRFC3339(ts: unknown): string {
  const t = typeof ts === 'string' && ts !== '' ? Date.parse(ts) : NaN;
  // Go formats the zero time for objects without a creationTimestamp.
  if (Number.isNaN(t)) return '0001-01-01T00:00:00Z';
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Kubernetes' default table (`rest.NewDefaultTableConvertor`) for kinds without a printer:
 * NAME and CREATED AT, the latter an RFC 3339 timestamp rather than an age.
 */
export const defaultPrinter: Printer = {
  columns: [nameColumn(), column('Created At', 'date', AGE_DESCRIPTION)],
  row: (obj) => [nameOf(obj), formatRFC3339(metadataOf(obj)['creationTimestamp'])],
};

/** Parses the `includeObject` query parameter (absent means Metadata); a 400 for anything else. */
export function parseIncludeObject(value: string | null | undefined): IncludeObject {
  if (value === undefined || value === null || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw badRequest(`unrecognized includeObject value: "${value}"`);
}

function rowObject(obj: unknown, includeObject: IncludeObject, tableApiVersion: string): unknown {
  switch (includeObject) {
    case 'None':
      return null;
    case 'Object':
      return obj;
    case 'Metadata':
      // The apiserver stamps the partial object with the Table's own group/version.
      return { kind: 'PartialObjectMetadata', apiVersion: tableApiVersion, metadata: metadataOf(obj) };
  }
}

/** Prints objects (one row each) into the Table the API server returns. */
export function toTable(
  printer: Printer,
  objects: readonly unknown[],
  listMeta: TableListMeta,
  includeObject: IncludeObject,
  now: Date,
  options: ToTableOptions = {},
): Table {
  const apiVersion = options.apiVersion ?? TABLE_API_VERSION;
  const metadata: TableListMeta = {};
  if (listMeta.resourceVersion !== undefined && listMeta.resourceVersion !== '') metadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue !== undefined && listMeta.continue !== '') metadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined) metadata.remainingItemCount = listMeta.remainingItemCount;
  const rows = objects.map((obj): TableRow => {
    const row: TableRow = { cells: printer.row(obj, now), object: rowObject(obj, includeObject, apiVersion) };
    const conditions = printer.conditions?.(obj);
    if (conditions && conditions.length > 0) {
      return { cells: row.cells, conditions, object: row.object };
    }
    return row;
  });
  return {
    kind: 'Table',
    apiVersion,
    metadata,
    columnDefinitions: options.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}

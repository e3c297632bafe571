/**
 * The table of a custom resource, built from its CRD version's `additionalPrinterColumns` as
 * apiextensions-apiserver does: NAME first, then one column per definition, each cell the first
 * value its JSONPath selects (typed by the column's `type`; `date` becomes an age). A version
 * without columns gets a single AGE column on `.metadata.creationTimestamp`.
 */

import { humanDuration } from './age.js';
import { findResults, parseJSONPath, type JSONPath } from './json-path.js';
import { AGE_DESCRIPTION, metadataOf, nameColumn, type Printer, type TableColumnDefinition } from './table.js';

/** A CRD's `additionalPrinterColumns` entry (apiextensions.k8s.io/v1 field names). */
export interface CustomResourceColumnDefinition {
  name: string;
  /** `integer`, `number`, `string`, `boolean` or `date`. */
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** What Kubernetes serves for a CRD version that declares no printer columns. */
export const defaultCustomResourceColumns: readonly CustomResourceColumnDefinition[] = [
  { name: 'Age', type: 'date', description: AGE_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' },
];

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Go's `%v` of a JSON number: integers in full, small fractions with a two-digit exponent. */
function goNumber(n: number): string {
  if (Number.isInteger(n) || n === 0) return String(n);
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mantissa, e = '0'] = n.toExponential().split('e');
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[-+]/, '').padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return String(n);
}

/** Go's `json.Marshal`: map keys sorted, `<`, `>` and `&` escaped. */
function goJSON(v: unknown): string {
  const sortKeys = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
    }
    return x;
  };
  return JSON.stringify(sortKeys(v)).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** How client-go's jsonpath prints one value as text (the `string` column type). */
function printText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return goJSON(v);
}

/** `cellForJSONValue`: the typed cell for non-string columns; null when the value does not fit. */
function typedCell(type: string, v: unknown, now: Date): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'string':
      return typeof v === 'string' ? v : null;
    case 'date': {
      if (typeof v !== 'string') return null;
      if (v === '' || v === 'null') return '<unknown>';
      if (!RFC3339.test(v)) return '<invalid>';
      const t = Date.parse(v);
      return Number.isNaN(t) ? '<invalid>' : humanDuration(now.getTime() - t);
    }
    default:
      return null;
  }
}

/**
 * A Printer for one CRD version. Throws JSONPathError when a column's path does not parse
 * (the CRD's validation should have refused it; callers may fall back to the default printer).
 */
export function customResourcePrinter(definitions: readonly CustomResourceColumnDefinition[] | undefined): Printer {
  const defs = definitions && definitions.length > 0 ? definitions : defaultCustomResourceColumns;
  const compiled: { def: CustomResourceColumnDefinition; path: JSONPath }[] = defs.map((def) => ({ def, path: parseJSONPath(def.jsonPath) }));
  const columns: TableColumnDefinition[] = [
    nameColumn(),
    ...defs.map((d) => ({
      name: d.name,
      type: d.type,
      format: d.format ?? '',
      description: d.description ? d.description : `Custom resource definition column (in JSONPath format): ${d.jsonPath}`,
      priority: d.priority ?? 0,
    })),
  ];
  return {
    columns,
    row(obj, now) {
      const name = metadataOf(obj)['name'];
      const cells: unknown[] = [typeof name === 'string' ? name : ''];
      for (const { def, path } of compiled) {
        const results = findResults(path, obj);
        if (results.length === 0) {
          cells.push(null);
          continue;
        }
        const value = results[0];
        cells.push(def.type === 'string' ? printText(value) : typedCell(def.type, value, now));
      }
      return cells;
    },
  };
}

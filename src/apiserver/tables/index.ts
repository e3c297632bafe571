/**
 * Every built-in printer in one explicit map keyed `group/resource` (core group: `/pods`).
 * Built by merging the per-group maps; a key defined twice is a programming error.
 */

import { printers as apps } from './apps.js';
import { printers as batch } from './batch.js';
import { printers as core } from './core.js';
import { printers as events } from './events.js';
import { printers as misc } from './misc.js';
import { printers as networking } from './networking.js';
import { printers as rbac } from './rbac.js';
import { defaultPrinter, type Printer } from './table.js';

/** Merges printer maps, throwing on a key that appears in more than one. */
export function mergePrinters(...maps: Record<string, Printer>[]): ReadonlyMap<string, Printer> {
  const merged = new Map<string, Printer>();
  for (const m of maps) {
    for (const [key, printer] of Object.entries(m)) {
      if (merged.has(key)) throw new Error(`duplicate table printer for ${key}`);
      merged.set(key, printer);
    }
  }
  return merged;
}

export const builtinPrinters: ReadonlyMap<string, Printer> = mergePrinters(core, events, apps, batch, networking, rbac, misc);

/** The printer for a resource (`group` is "" for the core group); the default table otherwise. */
export function printerFor(group: string, resource: string): Printer {
  return builtinPrinters.get(`${group}/${resource}`) ?? defaultPrinter;
}

export { toTable, parseIncludeObject, defaultPrinter } from './table.js';
export type { Printer, Table, TableRow, TableColumnDefinition, TableListMeta, IncludeObject, ToTableOptions } from './table.js';
export { customResourcePrinter, type CustomResourceColumnDefinition } from './custom-columns.js';
export { humanDuration, translateTimestampSince } from './age.js';

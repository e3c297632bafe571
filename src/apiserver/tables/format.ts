/**
 * Cell formatting shared by the printers: labels, label selectors, container lists and
 * "a,b,c + N more..." lists, each as Kubernetes renders them.
 */

import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { Container } from 'kubernetes-types/core/v1.js';

/** `labels.FormatLabels`: the `k=v` strings sorted (as strings, like Go), or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (pairs.length === 0) return '<none>';
  return pairs.sort().join(',');
}

/**
 * `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key; `""` for both a
 * nil and an empty selector; undefined when the selector is invalid.
 */
export function labelSelectorString(sel: LabelSelector | undefined | null): string | undefined {
  if (!sel) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort();
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return undefined;
        reqs.push({ key: e.key, text: `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${values.join(',')})` });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        reqs.push({ key: e.key, text: e.operator === 'Exists' ? e.key : `!${e.key}` });
        break;
      default:
        return undefined;
    }
  }
  // Array.prototype.sort is stable, keeping matchLabels ahead of expressions on the same key.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** `metav1.FormatLabelSelector`: the selector string, `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelector | undefined | null): string {
  const s = labelSelectorString(sel);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}

/** Container names and images, each joined with commas (the CONTAINERS and IMAGES columns). */
export function containerCells(containers: readonly Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/** `listWithMoreString`: `a,b,c + 2 more...`, or `<unset>` when empty. */
export function listWithMore(list: readonly string[], total: number, max: number): string {
  const shown = list.slice(0, max).join(',');
  if (total > max) return `${shown} + ${total - max} more...`;
  return shown === '' ? '<unset>' : shown;
}

/** Go's `net.JoinHostPort`: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Unique, sorted values joined by commas (Go's `sets.NewString(...).List()`). */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Go's `%v` of an IntOrString or missing value. */
export function intOrString(v: number | string | undefined | null): string {
  return v === undefined || v === null ? '' : String(v);
}

/** `printBoolPtr`: `True`, `False` or `<unset>`. */
export function boolPtr(v: boolean | undefined | null): string {
  if (v === undefined || v === null) return '<unset>';
  return v ? 'True' : 'False';
}

/** Go's `Quantity.String()` of a pointer: the stored (canonical) string, `<nil>` when absent. */
export function quantity(q: string | number | undefined | null): string {
  return q === undefined || q === null ? '<nil>' : String(q);
}

import { badRequest } from '../../machinery/status-error.js';
import { parseSelector as parseLabelSelector } from '../../machinery/labels.js';
import { parseFieldSelector } from '../../machinery/fields.js';
import type { ServedResource } from '../resource-registry.js';
import type { DeleteOptions, ListOptions } from '../registry/generic-store.js';
import { decodeBody, isObject } from './codec.js';

export function dryRunOf(url: URL): boolean {
  const values = url.searchParams.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dry run value: ${v}: supported values are "All"`);
  return values.length > 0;
}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${v}`);
  return Number(v);
}

/** The list/watch query of a request: selectors, paging and resourceVersion rules. */
export function parseListOptions(url: URL, served: ServedResource, namespace: string): ListOptions {
  const q = url.searchParams;
  const opts: ListOptions = { namespace };
  const ls = q.get('labelSelector');
  if (ls) {
    const selector = parseLabelSelector(ls);
    opts.labelSelector = (obj) => selector.matches(obj.metadata?.labels ?? {});
  }
  const fs = q.get('fieldSelector');
  if (fs) {
    const selector = parseFieldSelector(fs);
    const sample = served.store.fieldsOf({ metadata: {} });
    for (const req of selector.requirements) {
      if (!(req.field in sample)) {
        throw badRequest(`field label not supported: ${req.field}`);
      }
    }
    opts.fieldSelector = (fields) => selector.matches(fields);
  }
  const limit = intParam(url, 'limit');
  if (limit !== undefined && limit > 0) opts.limit = limit;
  const cont = q.get('continue');
  if (cont) opts.continueToken = cont;
  const rv = q.get('resourceVersion');
  if (rv !== null) opts.resourceVersion = rv;
  const match = q.get('resourceVersionMatch');
  if (match) {
    if (!['Exact', 'NotOlderThan'].includes(match)) throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    if (!rv) throw badRequest(`resourceVersionMatch is forbidden unless resourceVersion is provided`);
    if (cont) throw badRequest(`resourceVersionMatch is forbidden when continue is provided`);
    if (match === 'Exact' && rv === '0') throw badRequest(`resourceVersionMatch "exact" is forbidden for resourceVersion "0"`);
    opts.resourceVersionMatch = match;
  }
  if (cont && rv && rv !== '0') throw badRequest(`specifying resource version is not allowed when using continue`);
  return opts;
}

/** DeleteOptions from the body (kubectl sends one) or the query string. */
export function parseDeleteOptions(url: URL, body: Buffer, contentType: string | undefined, dryRun: boolean): DeleteOptions {
  const q = url.searchParams;
  const opts: DeleteOptions = { dryRun };
  let fromBody: Record<string, unknown> = {};
  if (body.length && body.toString('utf8').trim()) {
    const decoded = decodeBody(body, contentType, 'DeleteOptions');
    if (isObject(decoded)) fromBody = decoded;
  }
  const grace = fromBody['gracePeriodSeconds'] ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
  if (grace !== undefined) {
    if (typeof grace !== 'number' || Number.isNaN(grace)) throw badRequest('gracePeriodSeconds must be a number');
    opts.gracePeriodSeconds = Math.max(0, grace);
  }
  const policy = fromBody['propagationPolicy'] ?? q.get('propagationPolicy') ?? undefined;
  const orphan = fromBody['orphanDependents'] ?? (q.get('orphanDependents') !== null ? q.get('orphanDependents') === 'true' : undefined);
  if (policy !== undefined && policy !== null) {
    if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      throw badRequest(`propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`);
    }
    opts.propagationPolicy = policy;
  } else if (orphan !== undefined) {
    opts.propagationPolicy = orphan ? 'Orphan' : 'Background';
  }
  const pre = fromBody['preconditions'];
  if (isObject(pre)) {
    opts.preconditions = {};
    if (typeof pre['uid'] === 'string') opts.preconditions.uid = pre['uid'];
    if (typeof pre['resourceVersion'] === 'string') opts.preconditions.resourceVersion = pre['resourceVersion'];
  }
  const bodyDryRun = fromBody['dryRun'];
  if (Array.isArray(bodyDryRun) && bodyDryRun.includes('All')) opts.dryRun = true;
  return opts;
}

/**
 * Which names of a CRD are accepted, as apiextensions' NamingConditionController decides: a
 * requested plural, singular, short name, kind or list kind is refused when another CRD of the
 * same group already holds it (or, here, when a built-in resource of that group has it), unless
 * this CRD already holds it.
 */

import type { CustomResourceDefinition, CustomResourceDefinitionNames } from './crd-model.js';
import { requestedNames } from './crd-model.js';

/** A CRD status condition (type, status, reason, message; the time is set when it changes). */
export interface CRDCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** Names already taken in the group: resources (plural, singular, short names) and kinds (kind, list kind). */
export interface TakenNames {
  resources: Set<string>;
  kinds: Set<string>;
}

export interface NamingDecision {
  accepted: CustomResourceDefinitionNames;
  namesAccepted: CRDCondition;
  /** True when every requested name is accepted. */
  ok: boolean;
}

function equalToAcceptedOrFresh(requested: string, accepted: string | undefined, used: Set<string>): string | undefined {
  if (requested === accepted) return undefined;
  if (!used.has(requested)) return undefined;
  return `"${requested}" is already in use`;
}

/** Computes the accepted names and the NamesAccepted condition of `crd` given the names others hold. */
export function decideNames(crd: CustomResourceDefinition, taken: TakenNames): NamingDecision {
  const requested = requestedNames(crd);
  const previously = crd.status?.acceptedNames;
  const accepted: CustomResourceDefinitionNames = previously ? { ...previously } : { plural: '', kind: '' };
  let failure: { reason: string; message: string } | undefined;

  const check = (reason: string, req: string, acc: string | undefined, used: Set<string>, set: () => void): void => {
    const err = equalToAcceptedOrFresh(req, acc, used);
    if (err) failure = { reason, message: err };
    else set();
  };
  check('PluralConflict', requested.plural, previously?.plural, taken.resources, () => (accepted.plural = requested.plural));
  check('SingularConflict', requested.singular, previously?.singular, taken.resources, () => (accepted.singular = requested.singular));
  const wantShort = requested.shortNames ?? [];
  const haveShort = previously?.shortNames ?? [];
  if (JSON.stringify(wantShort) !== JSON.stringify(haveShort)) {
    const errs: string[] = [];
    for (const s of wantShort) {
      if (haveShort.includes(s)) continue;
      const err = equalToAcceptedOrFresh(s, '', taken.resources);
      if (err) errs.push(err);
    }
    if (errs.length) failure = { reason: 'ShortNamesConflict', message: errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]` };
    else if (wantShort.length) accepted.shortNames = [...wantShort];
    else delete accepted.shortNames;
  }
  check('KindConflict', requested.kind, previously?.kind, taken.kinds, () => (accepted.kind = requested.kind));
  check('ListKindConflict', requested.listKind, previously?.listKind, taken.kinds, () => (accepted.listKind = requested.listKind));
  if (requested.categories?.length) accepted.categories = [...requested.categories];
  else delete accepted.categories;

  const namesAccepted: CRDCondition = failure
    ? { type: 'NamesAccepted', status: 'False', reason: failure.reason, message: failure.message }
    : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  return { accepted, namesAccepted, ok: !failure };
}

/** Adds a CRD's accepted names to `taken`. */
export function addTaken(taken: TakenNames, names: CustomResourceDefinitionNames | undefined): void {
  if (!names) return;
  for (const n of [names.plural, names.singular, ...(names.shortNames ?? [])]) if (n) taken.resources.add(n);
  for (const n of [names.kind, names.listKind]) if (n) taken.kinds.add(n);
}

/**
 * Sets a condition the way Kubernetes' SetCRDCondition does: an existing condition of that type
 * keeps its lastTransitionTime unless its status changes; new conditions are appended.
 */
export function setCondition(conditions: CRDCondition[], next: CRDCondition, now: string): CRDCondition[] {
  const out = conditions.map((c) => ({ ...c }));
  const i = out.findIndex((c) => c.type === next.type);
  if (i < 0) {
    out.push({ type: next.type, status: next.status, lastTransitionTime: now, reason: next.reason, message: next.message });
    return out;
  }
  const existing = out[i]!;
  out[i] = {
    type: next.type,
    status: next.status,
    lastTransitionTime: existing.status !== next.status ? now : existing.lastTransitionTime ?? now,
    reason: next.reason,
    message: next.message,
  };
  return out;
}

export function findCondition(conditions: CRDCondition[] | undefined, type: string): CRDCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * HorizontalPodAutoscaler conversion between autoscaling/v2 (stored) and autoscaling/v1, as
 * Kubernetes' `pkg/apis/autoscaling/v1/conversion.go`: v1's `targetCPUUtilizationPercentage` is
 * v2's CPU `Utilization` Resource metric; what v1 cannot express (other metrics, current metrics,
 * conditions, behavior) travels in `autoscaling.alpha.kubernetes.io/*` annotations so that
 * v2 → v1 → v2 loses nothing.
 */
import type { VersionConverter } from '../../generic-store.js';
import type { KubeObject } from '../../strategy.js';
import { isObj, objAt, type Obj } from '../group-checks.js';

export const metricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const metricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const conditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
export const behaviorSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';
/** The CPU target v1 implies when it names none (`autoscaling.DefaultCPUUtilization`). */
export const defaultCPUUtilization = 80;

const roundTripAnnotations = [metricSpecsAnnotation, metricStatusesAnnotation, conditionsAnnotation, behaviorSpecsAnnotation];

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Copies the keys of `from` whose values are defined. */
function compact(from: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined) out[k] = v;
  return out;
}

/** `%v`-free JSON lookup that ignores case, as Go's `encoding/json` reads fields. */
function getCI(o: unknown, key: string): unknown {
  if (!isObj(o)) return undefined;
  if (key in o) return o[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function isCPUUtilization(m: unknown): boolean {
  const res = objAt(m, 'resource');
  return isObj(m) && m.type === 'Resource' && res !== undefined && res.name === 'cpu' && objAt(res, 'target')?.averageUtilization !== undefined;
}

// ---- metric specs ----

function specV2ToV1(m: Obj): Obj {
  const out: Obj = { type: m.type };
  const target = (src: Obj | undefined): Obj => objAt(src, 'target') ?? {};
  const metric = (src: Obj | undefined): Obj => objAt(src, 'metric') ?? {};
  const res = objAt(m, 'resource');
  if (res) out.resource = compact({ name: res.name, targetAverageUtilization: target(res).averageUtilization, targetAverageValue: clone(target(res).averageValue) });
  const cres = objAt(m, 'containerResource');
  if (cres) out.containerResource = compact({ name: cres.name, targetAverageUtilization: target(cres).averageUtilization, targetAverageValue: clone(target(cres).averageValue), container: cres.container });
  const pods = objAt(m, 'pods');
  if (pods) out.pods = compact({ metricName: metric(pods).name, targetAverageValue: clone(target(pods).averageValue) ?? '0', selector: clone(metric(pods).selector) });
  const object = objAt(m, 'object');
  if (object) {
    out.object = compact({
      target: clone(object.describedObject) ?? { kind: '', name: '' },
      metricName: metric(object).name,
      targetValue: clone(target(object).value) ?? '0',
      selector: clone(metric(object).selector),
      averageValue: clone(target(object).averageValue),
    });
  }
  const ext = objAt(m, 'external');
  if (ext) out.external = compact({ metricName: metric(ext).name, metricSelector: clone(metric(ext).selector), targetValue: clone(target(ext).value), targetAverageValue: clone(target(ext).averageValue) });
  return out;
}

function specV1ToV2(m: unknown): Obj {
  const out: Obj = { type: getCI(m, 'type') };
  const res = getCI(m, 'resource');
  if (isObj(res)) {
    const util = getCI(res, 'targetAverageUtilization');
    out.resource = { name: getCI(res, 'name'), target: compact({ type: util === undefined ? 'AverageValue' : 'Utilization', averageUtilization: util, averageValue: getCI(res, 'targetAverageValue') }) };
  }
  const cres = getCI(m, 'containerResource');
  if (isObj(cres)) {
    const util = getCI(cres, 'targetAverageUtilization');
    out.containerResource = { name: getCI(cres, 'name'), container: getCI(cres, 'container'), target: compact({ type: util === undefined ? 'AverageValue' : 'Utilization', averageUtilization: util, averageValue: getCI(cres, 'targetAverageValue') }) };
  }
  const pods = getCI(m, 'pods');
  if (isObj(pods)) {
    out.pods = { metric: compact({ name: getCI(pods, 'metricName'), selector: getCI(pods, 'selector') }), target: { type: 'AverageValue', averageValue: getCI(pods, 'targetAverageValue') ?? '0' } };
  }
  const object = getCI(m, 'object');
  if (isObj(object)) {
    const avg = getCI(object, 'averageValue');
    out.object = {
      describedObject: getCI(object, 'target'),
      metric: compact({ name: getCI(object, 'metricName'), selector: getCI(object, 'selector') }),
      target: compact({ type: avg === undefined ? 'Value' : 'AverageValue', value: getCI(object, 'targetValue') ?? '0', averageValue: avg }),
    };
  }
  const ext = getCI(m, 'external');
  if (isObj(ext)) {
    const value = getCI(ext, 'targetValue');
    out.external = {
      metric: compact({ name: getCI(ext, 'metricName'), selector: getCI(ext, 'metricSelector') }),
      target: compact({ type: value === undefined ? 'AverageValue' : 'Value', value, averageValue: getCI(ext, 'targetAverageValue') }),
    };
  }
  return out;
}

// ---- metric statuses ----

function statusV2ToV1(m: Obj): Obj {
  const out: Obj = { type: m.type };
  const current = (src: Obj | undefined): Obj => objAt(src, 'current') ?? {};
  const metric = (src: Obj | undefined): Obj => objAt(src, 'metric') ?? {};
  const res = objAt(m, 'resource');
  if (res) out.resource = compact({ name: res.name, currentAverageUtilization: current(res).averageUtilization, currentAverageValue: clone(current(res).averageValue) ?? '0' });
  const cres = objAt(m, 'containerResource');
  if (cres) out.containerResource = compact({ name: cres.name, currentAverageUtilization: current(cres).averageUtilization, currentAverageValue: clone(current(cres).averageValue) ?? '0', container: cres.container });
  const pods = objAt(m, 'pods');
  if (pods) out.pods = compact({ metricName: metric(pods).name, currentAverageValue: clone(current(pods).averageValue) ?? '0', selector: clone(metric(pods).selector) });
  const object = objAt(m, 'object');
  if (object) {
    out.object = compact({
      target: clone(object.describedObject) ?? { kind: '', name: '' },
      metricName: metric(object).name,
      currentValue: clone(current(object).value) ?? '0',
      selector: clone(metric(object).selector),
      averageValue: clone(current(object).averageValue),
    });
  }
  const ext = objAt(m, 'external');
  if (ext) out.external = compact({ metricName: metric(ext).name, metricSelector: clone(metric(ext).selector), currentValue: clone(current(ext).value) ?? '0', currentAverageValue: clone(current(ext).averageValue) });
  return out;
}

function statusV1ToV2(m: unknown): Obj {
  const out: Obj = { type: getCI(m, 'type') };
  const res = getCI(m, 'resource');
  if (isObj(res)) out.resource = { name: getCI(res, 'name'), current: compact({ averageUtilization: getCI(res, 'currentAverageUtilization'), averageValue: getCI(res, 'currentAverageValue') ?? '0' }) };
  const cres = getCI(m, 'containerResource');
  if (isObj(cres)) {
    out.containerResource = { name: getCI(cres, 'name'), container: getCI(cres, 'container'), current: compact({ averageUtilization: getCI(cres, 'currentAverageUtilization'), averageValue: getCI(cres, 'currentAverageValue') ?? '0' }) };
  }
  const pods = getCI(m, 'pods');
  if (isObj(pods)) out.pods = { metric: compact({ name: getCI(pods, 'metricName'), selector: getCI(pods, 'selector') }), current: { averageValue: getCI(pods, 'currentAverageValue') ?? '0' } };
  const object = getCI(m, 'object');
  if (isObj(object)) {
    out.object = {
      describedObject: getCI(object, 'target'),
      metric: compact({ name: getCI(object, 'metricName'), selector: getCI(object, 'selector') }),
      current: compact({ value: getCI(object, 'currentValue') ?? '0', averageValue: getCI(object, 'averageValue') }),
    };
  }
  const ext = getCI(m, 'external');
  if (isObj(ext)) {
    out.external = {
      metric: compact({ name: getCI(ext, 'metricName'), selector: getCI(ext, 'metricSelector') }),
      current: compact({ value: getCI(ext, 'currentValue') ?? '0', averageValue: getCI(ext, 'currentAverageValue') }),
    };
  }
  return out;
}

// ---- behavior (stored as Kubernetes marshals its internal type: Go field names) ----

function behaviorToAnnotation(b: Obj): string {
  const rules = (r: unknown): Obj | undefined =>
    isObj(r)
      ? compact({
          StabilizationWindowSeconds: r.stabilizationWindowSeconds,
          SelectPolicy: r.selectPolicy,
          Policies: Array.isArray(r.policies) ? r.policies.map((p) => (isObj(p) ? { Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds } : p)) : null,
          Tolerance: r.tolerance,
        })
      : undefined;
  return JSON.stringify({ ScaleUp: rules(b.scaleUp) ?? null, ScaleDown: rules(b.scaleDown) ?? null });
}

function behaviorFromAnnotation(text: string): Obj | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(parsed)) return undefined;
  const rules = (r: unknown): Obj | undefined => {
    if (!isObj(r)) return undefined;
    const policies = getCI(r, 'policies');
    return compact({
      stabilizationWindowSeconds: getCI(r, 'stabilizationWindowSeconds') ?? undefined,
      selectPolicy: getCI(r, 'selectPolicy') ?? undefined,
      policies: Array.isArray(policies) ? policies.map((p) => ({ type: getCI(p, 'type'), value: getCI(p, 'value'), periodSeconds: getCI(p, 'periodSeconds') })) : undefined,
      tolerance: getCI(r, 'tolerance') ?? undefined,
    });
  };
  return compact({ scaleUp: rules(getCI(parsed, 'scaleUp')), scaleDown: rules(getCI(parsed, 'scaleDown')) });
}

function parseJSONArray(text: string | undefined): unknown[] | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function metadataWithoutRoundTrip(meta: KubeObject['metadata']): { meta: NonNullable<KubeObject['metadata']>; annotations: Record<string, string> } {
  const m = clone(meta) ?? {};
  const annotations = { ...(m.annotations ?? {}) };
  const kept = { ...annotations };
  for (const k of roundTripAnnotations) delete kept[k];
  if (Object.keys(kept).length) m.annotations = kept;
  else delete m.annotations;
  return { meta: m, annotations };
}

/** autoscaling/v2 → autoscaling/v1. */
export function hpaV2ToV1(obj: KubeObject): KubeObject {
  const { meta } = metadataWithoutRoundTrip(obj.metadata);
  const spec = isObj(obj.spec) ? obj.spec : {};
  const status = isObj(obj.status) ? obj.status : {};
  const metrics = Array.isArray(spec.metrics) ? spec.metrics.filter(isObj) : [];
  const outSpec: Obj = compact({ scaleTargetRef: clone(spec.scaleTargetRef), minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas });
  for (const m of metrics) {
    const res = objAt(m, 'resource');
    if (m.type === 'Resource' && res?.name === 'cpu') {
      const util = objAt(res, 'target')?.averageUtilization;
      if (util !== undefined) outSpec.targetCPUUtilizationPercentage = util;
      break;
    }
  }
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  const others = metrics.filter((m) => !isCPUUtilization(m)).map(specV2ToV1);
  if (others.length) annotations[metricSpecsAnnotation] = JSON.stringify(others);
  const currentMetrics = Array.isArray(status.currentMetrics) ? status.currentMetrics.filter(isObj) : [];
  if (currentMetrics.length) annotations[metricStatusesAnnotation] = JSON.stringify(currentMetrics.map(statusV2ToV1));
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  if (conditions.length) annotations[conditionsAnnotation] = JSON.stringify(conditions);
  if (isObj(spec.behavior)) annotations[behaviorSpecsAnnotation] = behaviorToAnnotation(spec.behavior);
  if (Object.keys(annotations).length) meta.annotations = annotations;

  const outStatus: Obj = compact({
    observedGeneration: status.observedGeneration,
    lastScaleTime: status.lastScaleTime,
    currentReplicas: status.currentReplicas ?? 0,
    desiredReplicas: status.desiredReplicas ?? 0,
  });
  for (const m of currentMetrics) {
    const res = objAt(m, 'resource');
    const util = objAt(res, 'current')?.averageUtilization;
    if (m.type === 'Resource' && res?.name === 'cpu' && util !== undefined) outStatus.currentCPUUtilizationPercentage = util;
  }
  const out: KubeObject = { apiVersion: 'autoscaling/v1', kind: obj.kind ?? 'HorizontalPodAutoscaler', metadata: meta, spec: outSpec };
  if (obj.status !== undefined) out.status = outStatus;
  return out;
}

/** autoscaling/v1 → autoscaling/v2. */
export function hpaV1ToV2(obj: KubeObject): KubeObject {
  const { meta, annotations } = metadataWithoutRoundTrip(obj.metadata);
  const spec = isObj(obj.spec) ? obj.spec : {};
  const status = isObj(obj.status) ? obj.status : {};
  const outSpec: Obj = compact({ scaleTargetRef: clone(spec.scaleTargetRef), minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas });
  let metrics: Obj[] = [];
  if (typeof spec.targetCPUUtilizationPercentage === 'number') {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  const others = parseJSONArray(annotations[metricSpecsAnnotation]);
  // The CPU target comes after the others, as Kubernetes appends it.
  if (others) metrics = [...others.map(specV1ToV2), ...metrics];
  if (metrics.length === 0) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  }
  outSpec.metrics = metrics;
  const behaviorText = annotations[behaviorSpecsAnnotation];
  if (behaviorText !== undefined) {
    const behavior = behaviorFromAnnotation(behaviorText);
    if (behavior) outSpec.behavior = behavior;
  }

  const outStatus: Obj = compact({
    observedGeneration: status.observedGeneration,
    lastScaleTime: status.lastScaleTime,
    currentReplicas: status.currentReplicas,
    desiredReplicas: status.desiredReplicas ?? 0,
  });
  if (typeof status.currentCPUUtilizationPercentage === 'number') {
    outStatus.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  }
  const current = parseJSONArray(annotations[metricStatusesAnnotation]);
  // The annotation holds more than the CPU percentage, so it replaces it.
  if (current) outStatus.currentMetrics = current.map(statusV1ToV2);
  const conditions = parseJSONArray(annotations[conditionsAnnotation]);
  if (conditions) outStatus.conditions = conditions;
  const out: KubeObject = { apiVersion: 'autoscaling/v2', kind: obj.kind ?? 'HorizontalPodAutoscaler', metadata: meta, spec: outSpec };
  if (obj.status !== undefined || current || conditions) out.status = outStatus;
  return out;
}

/** The converter the `horizontalpodautoscalers` store is registered with (storage: v2). */
export const hpaConverter: VersionConverter = {
  storageApiVersion: 'autoscaling/v2',
  toStorage(obj, fromVersion) {
    if (fromVersion === 'v1') return hpaV1ToV2(obj);
    // v2 round-trips without annotations; drop any that another version left.
    return { ...obj, metadata: metadataWithoutRoundTrip(obj.metadata).meta };
  },
  fromStorage(obj, toVersion) {
    if (toVersion === 'v1') return hpaV2ToV1(obj);
    return { ...obj, metadata: metadataWithoutRoundTrip(obj.metadata).meta };
  },
};

import type { Pod } from 'kubernetes-types/core/v1.js';
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HPAScalingRules, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import { refs, splitKey } from '../client/informer.js';
import { isConflict, isNotFound, type ApiObject, type Client, type ResourceRef } from '../client/interface.js';
import { formatLabelSelector, formatLabels, parseSelector, type LabelSelector } from '../machinery/labels.js';
import { Quantity } from '../machinery/quantity.js';
import { deepEqual } from '../machinery/json-value.js';
import { Controller, type ControllerContext } from './controller.js';
import { asApiObject } from './pod-control.js';

/** One pod's usage of a resource, in milli-units, sampled at `timestamp` over `windowSeconds`. */
export interface PodMetric {
  name: string;
  timestamp: Date;
  windowSeconds: number;
  /** Usage per resource name (`cpu`, `memory`), summed over containers, in milli-units. */
  usage: Record<string, number>;
}

/** Where the HPA reads pod usage; the default reads `metrics.k8s.io/v1beta1` pods through the Client. */
export interface PodMetricsSource {
  podMetrics(namespace: string, labelSelector: string): Promise<PodMetric[]>;
}

function durationSeconds(s: unknown): number {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(String(s ?? ''));
  return m ? Number(m[1]) : 30;
}

/** Reads PodMetrics from the metrics.k8s.io API, as Kubernetes' resource metrics client does. */
export class ClientPodMetricsSource implements PodMetricsSource {
  constructor(private readonly client: Client) {}

  async podMetrics(namespace: string, labelSelector: string): Promise<PodMetric[]> {
    const list = await this.client.list({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' }, namespace, { labelSelector });
    return list.items.map((o) => {
      const usage: Record<string, number> = {};
      for (const c of (o['containers'] as Array<{ usage?: Record<string, string> }> | undefined) ?? []) {
        for (const [r, v] of Object.entries(c.usage ?? {})) usage[r] = (usage[r] ?? 0) + Number(Quantity.parse(v).milliValue());
      }
      return { name: o.metadata?.name ?? '', timestamp: new Date(String(o['timestamp'] ?? 0)), windowSeconds: durationSeconds(o['window']), usage };
    });
  }
}

const tolerance = 0.1;
const knownKinds: Record<string, ResourceRef> = {
  'apps/Deployment': refs.deployments,
  'apps/ReplicaSet': refs.replicasets,
  'apps/StatefulSet': refs.statefulsets,
  '/ReplicationController': refs.replicationcontrollers,
};

interface Recommendation {
  at: number;
  replicas: number;
}
interface ScaleEvent {
  at: number;
  change: number;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function milliQuantity(milli: number): string {
  return Quantity.fromScaled(BigInt(Math.round(milli)), -3).toString();
}

/** The replica count a metric proposes, and what the status reports for it. */
interface Proposal {
  replicas: number;
  metricName: string;
  status: MetricStatus;
}

/**
 * The HorizontalPodAutoscaler controller (autoscaling/v2, resource metrics): every sync period
 * (option `hpaSyncPeriodSeconds`, default 15) it reads the target's scale and its pods' usage,
 * computes `ceil(current × usage / target)` with Kubernetes' tolerance and missing/unready pod
 * rules, applies min/max, stabilization windows and scaling policies, writes the target's
 * replicas and the HPA status, and records SuccessfulRescale events.
 */
export class HorizontalPodAutoscalerController extends Controller {
  readonly name = 'horizontal-pod-autoscaler';
  private readonly hpas = this.ctx.informers.for(refs.horizontalpodautoscalers);
  private readonly pods = this.ctx.informers.for(refs.pods);
  private readonly recorder = this.ctx.recorder('horizontal-pod-autoscaler');
  private readonly syncMs = Number(this.ctx.options['hpaSyncPeriodSeconds'] ?? 15) * 1000;
  private readonly downscaleWindowMs = Number(this.ctx.options['hpaDownscaleStabilizationSeconds'] ?? 300) * 1000;
  private readonly cpuInitializationMs = Number(this.ctx.options['hpaCpuInitializationPeriodSeconds'] ?? 300) * 1000;
  private readonly initialReadinessDelayMs = Number(this.ctx.options['hpaInitialReadinessDelaySeconds'] ?? 30) * 1000;
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly upEvents = new Map<string, ScaleEvent[]>();
  private readonly downEvents = new Map<string, ScaleEvent[]>();
  /** Replaceable in tests; the default reads metrics.k8s.io. */
  metrics: PodMetricsSource;

  constructor(ctx: ControllerContext, metrics?: PodMetricsSource) {
    super(ctx);
    this.metrics = metrics ?? (ctx.options['podMetricsSource'] as PodMetricsSource | undefined) ?? new ClientPodMetricsSource(ctx.client);
  }

  setup(): void {
    this.hpas.addEventHandler({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (old, cur) => !deepEqual(old['spec'], cur['spec']) && this.enqueue(cur),
      onDelete: (o) => {
        const key = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
        this.recommendations.delete(key);
        this.upEvents.delete(key);
        this.downEvents.delete(key);
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const obj = this.hpas.get(namespace, name);
    if (!obj) return;
    this.queue.addAfter(key, this.syncMs);
    const hpa = structuredClone(obj) as HorizontalPodAutoscaler;
    const now = this.ctx.clock.now();
    const conds: HorizontalPodAutoscalerCondition[] = [...(hpa.status?.conditions ?? [])];
    const setCond = (type: string, status: 'True' | 'False', reason: string, message: string): void => {
      const i = conds.findIndex((c) => c.type === type);
      const prev = i >= 0 ? conds[i] : undefined;
      const c: HorizontalPodAutoscalerCondition = { type, status, reason, message, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : rfc3339(now) };
      if (i >= 0) conds[i] = c;
      else conds.push(c);
    };
    const spec = hpa.spec;
    if (!spec) return;
    const targetRef = spec.scaleTargetRef;
    const writeStatus = async (current: number, desired: number, metrics: MetricStatus[] | undefined, rescaled: boolean): Promise<void> => {
      const status = { ...hpa.status, currentReplicas: current, desiredReplicas: desired, conditions: conds } as NonNullable<HorizontalPodAutoscaler['status']>;
      if (metrics && metrics.length) status.currentMetrics = metrics;
      else delete status.currentMetrics;
      if (rescaled) status.lastScaleTime = rfc3339(now);
      if (hpa.metadata?.generation !== undefined) status.observedGeneration = hpa.metadata.generation;
      if (deepEqual(status, obj['status'])) return;
      try {
        await this.ctx.client.update(refs.horizontalpodautoscalers, namespace, { ...asApiObject(hpa), status }, { subresource: 'status' });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    };

    // The target's scale.
    let target: { ref: ResourceRef; obj: ApiObject; replicas: number; selector: string };
    try {
      target = await this.readScale(namespace, targetRef.apiVersion ?? '', targetRef.kind, targetRef.name);
    } catch (e) {
      const msg = (e as Error).message;
      this.recorder.event(obj, 'Warning', 'FailedGetScale', msg);
      setCond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`);
      await writeStatus(hpa.status?.currentReplicas ?? 0, hpa.status?.desiredReplicas ?? 0, hpa.status?.currentMetrics, false);
      return;
    }
    setCond('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current = target.replicas;
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ at: now.getTime(), replicas: current }]);
    const minReplicas = spec.minReplicas ?? 1;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined = [];
    if (current === 0 && minReplicas !== 0) {
      rescale = false;
      setCond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > spec.maxReplicas) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = spec.maxReplicas;
    } else if (current < minReplicas) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      const computed = await this.computeForMetrics(hpa, namespace, current, target.selector);
      metricStatuses = computed.statuses;
      if (computed.error !== undefined) {
        const msg = computed.error;
        setCond('ScalingActive', 'False', computed.errorReason ?? 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${msg}`);
        this.recorder.event(obj, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${computed.invalid} invalid out of ${spec.metrics?.length ?? 0}), first error is: ${msg}`);
        if (computed.replicas === -1) {
          await writeStatus(current, hpa.status?.desiredReplicas ?? current, metricStatuses, false);
          return;
        }
      } else {
        setCond('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.metricName}`);
      }
      let rescaleMetric = '';
      if (computed.replicas > desired) {
        desired = computed.replicas;
        rescaleMetric = computed.metricName;
      }
      if (desired > current) reason = `${rescaleMetric} above target`;
      if (desired < current) reason = 'All metrics below target';
      desired = this.normalize(key, hpa, current, desired, minReplicas, now, setCond);
      rescale = desired !== current;
    }
    if (rescale) {
      try {
        await this.writeScale(target.ref, namespace, target.obj, desired);
      } catch (e) {
        const msg = (e as Error).message;
        this.recorder.event(obj, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${msg}`);
        setCond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        await writeStatus(current, hpa.status?.desiredReplicas ?? current, metricStatuses, false);
        throw e;
      }
      setCond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.recorder.event(obj, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      if (spec.behavior) {
        const events = desired > current ? this.upEvents : this.downEvents;
        const list = events.get(key) ?? [];
        const longest = Math.max(15, ...((desired > current ? spec.behavior.scaleUp : spec.behavior.scaleDown)?.policies ?? []).map((p) => p.periodSeconds)) * 1000;
        events.set(key, [...list.filter((e) => e.at > now.getTime() - longest), { at: now.getTime(), change: Math.abs(desired - current) }]);
      }
    } else {
      desired = current;
    }
    await writeStatus(current, desired, metricStatuses, rescale);
  }

  /** Reads replicas and the pod selector of the scale target (what GET …/scale answers). */
  private async readScale(namespace: string, apiVersion: string, kind: string, name: string): Promise<{ ref: ResourceRef; obj: ApiObject; replicas: number; selector: string }> {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    let ref = knownKinds[`${group}/${kind}`];
    if (!ref) {
      const found = (await this.ctx.client.serverResources()).find((r) => r.group === group && r.kind === kind && r.namespaced);
      if (!found) throw new Error(`no matches for kind "${kind}" in group "${group}"`);
      ref = { group: found.group, version: found.version, resource: found.resource };
    }
    const obj = await this.ctx.client.get(ref, namespace, name);
    const spec = (obj['spec'] ?? {}) as { replicas?: number; selector?: unknown };
    const status = (obj['status'] ?? {}) as { selector?: string };
    let selector = typeof status.selector === 'string' ? status.selector : '';
    if (!selector && spec.selector && typeof spec.selector === 'object') {
      const sel = spec.selector as LabelSelector & Record<string, unknown>;
      selector = 'matchLabels' in sel || 'matchExpressions' in sel ? formatLabelSelector(sel) : formatLabels(sel as unknown as Record<string, string>);
      if (selector === '<none>' || selector === '<error>') selector = '';
    }
    return { ref, obj, replicas: spec.replicas ?? 1, selector };
  }

  /** Sets spec.replicas on the target (the scale subresource's effect), retrying once on a conflict. */
  private async writeScale(ref: ResourceRef, namespace: string, obj: ApiObject, replicas: number): Promise<void> {
    let cur = obj;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ctx.client.update(ref, namespace, { ...cur, spec: { ...(cur['spec'] as object), replicas } });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt > 2) throw e;
        cur = await this.ctx.client.get(ref, namespace, obj.metadata?.name ?? '');
      }
    }
  }

  private async computeForMetrics(hpa: HorizontalPodAutoscaler, namespace: string, current: number, selector: string): Promise<{ replicas: number; metricName: string; statuses: MetricStatus[]; error?: string; errorReason?: string; invalid: number }> {
    const specs = hpa.spec?.metrics ?? [];
    let replicas = 0;
    let metricName = '';
    let invalid = 0;
    let firstError: string | undefined;
    let errorReason: string | undefined;
    const statuses: MetricStatus[] = [];
    if (!selector) return { replicas: -1, metricName, statuses, error: 'selector is required', errorReason: 'InvalidSelector', invalid: specs.length };
    for (const m of specs) {
      try {
        if (m.type !== 'Resource' || !m.resource) throw Object.assign(new Error(`unsupported metric source type "${m.type}"`), { reason: 'InvalidMetricSourceType' });
        const p = await this.resourceProposal(m.resource.name, m.resource.target, namespace, current, selector);
        statuses.push(p.status);
        if (p.replicas > replicas) {
          replicas = p.replicas;
          metricName = p.metricName;
        }
      } catch (e) {
        invalid++;
        firstError ??= (e as Error).message;
        errorReason ??= (e as { reason?: string }).reason ?? 'FailedGetResourceMetric';
        statuses.push({ type: '' });
      }
    }
    const clean = statuses.filter((s) => s.type !== '');
    if (invalid >= specs.length || (invalid > 0 && replicas < current)) return { replicas: -1, metricName, statuses: clean, error: firstError ?? 'no metrics', errorReason, invalid };
    return { replicas, metricName, statuses: clean, invalid, ...(firstError !== undefined ? { error: firstError, errorReason } : {}) };
  }

  /** Kubernetes' replica calculator for one resource metric (utilization or average value). */
  private async resourceProposal(resource: string, target: { type: string; averageUtilization?: number; averageValue?: string | number }, namespace: string, current: number, selector: string): Promise<Proposal> {
    const sel = parseSelector(selector);
    const pods = this.pods.list(namespace).map((p) => p as Pod).filter((p) => sel.matches(p.metadata?.labels ?? {}));
    if (!pods.length) throw new Error('no pods returned by selector while calculating replica count');
    const samples = await this.metrics.podMetrics(namespace, selector);
    const metrics = new Map<string, number>();
    const sampleOf = new Map<string, PodMetric>();
    for (const s of samples) {
      const v = s.usage[resource];
      if (v === undefined) continue;
      metrics.set(s.name, v);
      sampleOf.set(s.name, s);
    }
    if (!metrics.size) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const now = this.ctx.clock.now().getTime();
    let ready = 0;
    const unready: string[] = [];
    const missing: string[] = [];
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
        metrics.delete(name);
        continue;
      }
      if (pod.status?.phase === 'Pending') {
        unready.push(name);
        continue;
      }
      const sample = sampleOf.get(name);
      if (!sample) {
        missing.push(name);
        continue;
      }
      if (resource === 'cpu' && this.cpuUnready(pod, sample, now)) {
        unready.push(name);
        continue;
      }
      ready++;
    }
    const podNames = new Set(pods.map((p) => p.metadata?.name ?? ''));
    for (const n of [...metrics.keys()]) if (!podNames.has(n)) metrics.delete(n);
    for (const n of unready) metrics.delete(n);
    if (!metrics.size) throw new Error('did not receive metrics for targeted pods (pods might be unready)');

    if (target.type === 'Utilization' && target.averageUtilization !== undefined) {
      const requests = new Map<string, number>();
      for (const pod of pods) {
        let sum = 0;
        for (const c of pod.spec?.containers ?? []) {
          const r = c.resources?.requests?.[resource];
          if (r === undefined) throw new Error(`failed to get ${resource} utilization: missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
          sum += Number(Quantity.parse(r).milliValue());
        }
        requests.set(pod.metadata?.name ?? '', sum);
      }
      const targetUtil = target.averageUtilization;
      const ratioOf = (m: Map<string, number>): { ratio: number; utilization: number; raw: number } => {
        let usage = 0;
        let req = 0;
        for (const [n, v] of m) {
          const r = requests.get(n);
          if (r === undefined) continue;
          usage += v;
          req += r;
        }
        if (req === 0) throw new Error('no metrics returned matched known pods');
        const utilization = Math.trunc((usage * 100) / req);
        return { ratio: utilization / targetUtil, utilization, raw: usage / m.size };
      };
      const first = ratioOf(metrics);
      const replicas = this.finish(first.ratio, current, ready, metrics, unready, missing, (n) => ((requests.get(n) ?? 0) * Math.max(100, targetUtil)) / 100, ratioOf);
      return {
        replicas,
        metricName: `${resource} resource utilization (percentage of request)`,
        status: { type: 'Resource', resource: { name: resource, current: { averageUtilization: first.utilization, averageValue: milliQuantity(Math.trunc(first.raw)) } } },
      };
    }
    if (target.type === 'AverageValue' && target.averageValue !== undefined) {
      const targetMilli = Number(Quantity.parse(target.averageValue).milliValue());
      const ratioOf = (m: Map<string, number>): { ratio: number; raw: number } => {
        let usage = 0;
        for (const v of m.values()) usage += v;
        return { ratio: usage / m.size / targetMilli, raw: usage / m.size };
      };
      const first = ratioOf(metrics);
      const replicas = this.finish(first.ratio, current, metrics.size, metrics, unready, missing, () => targetMilli, ratioOf);
      return { replicas, metricName: `${resource} resource`, status: { type: 'Resource', resource: { name: resource, current: { averageValue: milliQuantity(Math.trunc(first.raw)) } } } };
    }
    throw Object.assign(new Error('invalid resource metric source: neither a utilization target nor a value target was set'), { reason: 'InvalidMetricSourceType' });
  }

  /** The tolerance and the missing/unready pod corrections of replica_calculator.go. */
  private finish(ratio: number, current: number, readyCount: number, metrics: Map<string, number>, unready: string[], missing: string[], fallback: (pod: string) => number, ratioOf: (m: Map<string, number>) => { ratio: number }): number {
    const scaleUpWithUnready = unready.length > 0 && ratio > 1;
    if (!scaleUpWithUnready && missing.length === 0) {
      if (Math.abs(1 - ratio) <= tolerance) return current;
      return Math.ceil(ratio * readyCount);
    }
    if (missing.length) {
      // Missing pods are assumed to use what pulls the result back toward no change.
      for (const n of missing) metrics.set(n, ratio < 1 ? fallback(n) : 0);
    }
    if (scaleUpWithUnready) for (const n of unready) metrics.set(n, 0);
    const next = ratioOf(metrics).ratio;
    if (Math.abs(1 - next) <= tolerance || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return current;
    const replicas = Math.ceil(next * metrics.size);
    if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) return current;
    return replicas;
  }

  /** Whether a pod's CPU sample should be ignored as from a pod still starting (groupPods). */
  private cpuUnready(pod: Pod, sample: PodMetric, now: number): boolean {
    const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const start = pod.status?.startTime ? new Date(pod.status.startTime).getTime() : undefined;
    if (!cond || start === undefined) return true;
    const transition = cond.lastTransitionTime ? new Date(cond.lastTransitionTime).getTime() : 0;
    if (start + this.cpuInitializationMs > now) return cond.status === 'False' || sample.timestamp.getTime() < transition + sample.windowSeconds * 1000;
    return cond.status === 'False' && start + this.initialReadinessDelayMs > transition;
  }

  /** Stabilization and rate limits, with or without `behavior`, setting AbleToScale/ScalingLimited. */
  private normalize(key: string, hpa: HorizontalPodAutoscaler, current: number, desired: number, minReplicas: number, now: Date, setCond: (t: string, s: 'True' | 'False', r: string, m: string) => void): number {
    const t = now.getTime();
    const recs = this.recommendations.get(key) ?? [];
    const behavior = hpa.spec?.behavior;
    const maxReplicas = hpa.spec?.maxReplicas ?? 0;
    let stabilized: number;
    let stabReason = '';
    let stabMessage = '';
    if (!behavior) {
      const cutoff = t - this.downscaleWindowMs;
      stabilized = desired;
      for (const r of recs) if (r.at > cutoff && r.replicas > stabilized) stabilized = r.replicas;
      this.recommendations.set(key, [...recs.filter((r) => r.at > cutoff), { at: t, replicas: desired }]);
      stabReason = 'ScaleDownStabilized';
      stabMessage = 'recent recommendations were higher than current one, applying the highest recent recommendation';
    } else {
      const upCutoff = t - (behavior.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
      const downCutoff = t - (behavior.scaleDown?.stabilizationWindowSeconds ?? this.downscaleWindowMs / 1000) * 1000;
      let up = desired;
      let down = desired;
      for (const r of recs) {
        if (r.at > upCutoff) up = Math.min(up, r.replicas);
        if (r.at > downCutoff) down = Math.max(down, r.replicas);
      }
      stabilized = Math.min(Math.max(current, up), down);
      this.recommendations.set(key, [...recs.filter((r) => r.at > Math.min(upCutoff, downCutoff)), { at: t, replicas: desired }]);
      if (desired >= current) {
        stabReason = 'ScaleUpStabilized';
        stabMessage = 'recent recommendations were lower than current one, applying the lowest recent recommendation';
      } else {
        stabReason = 'ScaleDownStabilized';
        stabMessage = 'recent recommendations were higher than current one, applying the highest recent recommendation';
      }
    }
    if (stabilized !== desired) setCond('AbleToScale', 'True', stabReason, stabMessage);
    else setCond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');

    let result = stabilized;
    let reason = 'DesiredWithinRange';
    let message = 'the desired count is within the acceptable range';
    const tooMany = ['TooManyReplicas', 'the desired replica count is more than the maximum replica count'] as const;
    const tooFew = ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'] as const;
    if (!behavior) {
      const upLimit = Math.max(2 * current, 4);
      const [maxAllowed, limitR, limitM] = maxReplicas > upLimit ? [upLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'] : [maxReplicas, ...tooMany];
      if (stabilized < minReplicas) [result, reason, message] = [minReplicas, ...tooFew];
      else if (stabilized > maxAllowed) [result, reason, message] = [maxAllowed, limitR, limitM];
    } else if (stabilized > current) {
      let upLimit = Math.max(current, this.rateLimit(behavior.scaleUp, current, this.upEvents.get(key) ?? [], t, 'up'));
      const [maxAllowed, limitR, limitM] = maxReplicas > upLimit ? [upLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'] : [maxReplicas, ...tooMany];
      upLimit = maxAllowed;
      if (stabilized > upLimit) [result, reason, message] = [upLimit, limitR, limitM];
    } else if (stabilized < current) {
      const downLimit = Math.min(current, this.rateLimit(behavior.scaleDown, current, this.downEvents.get(key) ?? [], t, 'down'));
      const [minAllowed, limitR, limitM] = minReplicas < downLimit ? [downLimit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate'] : [minReplicas, ...tooFew];
      if (stabilized < minAllowed) [result, reason, message] = [minAllowed, limitR, limitM];
    }
    setCond('ScalingLimited', result === stabilized ? 'False' : 'True', reason, message);
    return result;
  }

  /** The furthest the policies let the replica count move from where each period started. */
  private rateLimit(rules: HPAScalingRules | undefined, current: number, events: ScaleEvent[], now: number, dir: 'up' | 'down'): number {
    const select = rules?.selectPolicy ?? 'Max';
    if (select === 'Disabled') return current;
    const policies = rules?.policies ?? (dir === 'up' ? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] : [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
    // For scale-up Max picks the highest proposal; for scale-down Max picks the lowest (most change).
    const pickHigh = (dir === 'up') === (select === 'Max');
    let result = pickHigh ? -Infinity : Infinity;
    for (const p of policies) {
      const changed = events.filter((e) => e.at > now - p.periodSeconds * 1000).reduce((s, e) => s + e.change, 0);
      let proposed: number;
      if (dir === 'up') {
        const start = current - changed;
        proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
      } else {
        const start = current + changed;
        proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
      }
      result = pickHigh ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result;
  }
}

/**
 * What Kubernetes' admission plugins add to every new Pod, as plain functions for the admission
 * chain to call on CREATE (they are not defaults: a Pod created before them keeps its fields):
 * DefaultTolerationSeconds, ServiceAccount (name and token volume) and Priority.
 */
import { arrAt, isObj, type Obj } from '../group-checks.js';
import type { KubeObject } from '../../strategy.js';

/** How long pods stay bound to a node that is not ready / unreachable before eviction. */
export const defaultTolerationSeconds = 300;

function specOf(pod: KubeObject): Obj {
  if (!isObj(pod.spec)) pod.spec = {};
  return pod.spec as Obj;
}

/**
 * DefaultTolerationSeconds: adds `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable`
 * NoExecute tolerations for 300s unless the pod already tolerates those taints.
 */
export function defaultTolerations(pod: KubeObject, seconds = defaultTolerationSeconds): void {
  const spec = specOf(pod);
  const tolerations = arrAt(spec, 'tolerations').filter(isObj);
  const tolerates = (key: string): boolean =>
    tolerations.some((t) => {
      const effect = t.effect ?? '';
      const effectOk = effect === '' || effect === 'NoExecute';
      const keyOk = t.key === key || ((t.key === undefined || t.key === '') && t.operator === 'Exists');
      return effectOk && keyOk;
    });
  const added: Obj[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  if (added.length) spec.tolerations = [...tolerations, ...added];
}

export interface ServiceAccountAdmissionOptions {
  /** Whether the ServiceAccount (if known) sets `automountServiceAccountToken: false`. */
  serviceAccountAutomount?: boolean;
  /** Random suffix for the `kube-api-access-xxxxx` volume (injected for tests). */
  suffix?: string;
}

const tokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const suffixChars = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * ServiceAccount admission: `serviceAccountName` defaults to `default` (and `serviceAccount`
 * mirrors it); unless automounting is off (on the pod, or on its ServiceAccount), a projected
 * `kube-api-access-xxxxx` volume (token, kube-root-ca.crt, namespace) is added and mounted
 * read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container.
 */
export function admitPodServiceAccount(pod: KubeObject, opts: ServiceAccountAdmissionOptions = {}): void {
  // A mirror pod shows a static pod the kubelet runs from a file: it gets no account or token.
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  const spec = specOf(pod);
  if (typeof spec.serviceAccountName !== 'string' || !spec.serviceAccountName) spec.serviceAccountName = 'default';
  spec.serviceAccount = spec.serviceAccountName;
  const automount = typeof spec.automountServiceAccountToken === 'boolean' ? spec.automountServiceAccountToken : opts.serviceAccountAutomount ?? true;
  if (!automount) return;
  const allContainers = [...arrAt(spec, 'initContainers'), ...arrAt(spec, 'containers')].filter(isObj);
  const alreadyMounted = (c: Obj): boolean => arrAt(c, 'volumeMounts').some((m) => isObj(m) && m.mountPath === tokenMountPath);
  const volumes = arrAt(spec, 'volumes').filter(isObj);
  let name = volumes.find((v) => typeof v.name === 'string' && v.name.startsWith('kube-api-access-'))?.name as string | undefined;
  if (!name) {
    let suffix = opts.suffix;
    if (!suffix) {
      suffix = '';
      for (let i = 0; i < 5; i++) suffix += suffixChars[Math.floor(Math.random() * suffixChars.length)];
    }
    name = `kube-api-access-${suffix}`;
    spec.volumes = [
      ...volumes,
      {
        name,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ];
  }
  for (const c of allContainers) {
    if (alreadyMounted(c)) continue;
    c.volumeMounts = [...arrAt(c, 'volumeMounts'), { name, readOnly: true, mountPath: tokenMountPath }];
  }
}

/**
 * Priority admission for a pod without a PriorityClass (or with one the caller resolved):
 * sets `priority` and `preemptionPolicy` (PreemptLowerPriority) when absent.
 */
export function admitPodPriority(pod: KubeObject, priority = 0, preemptionPolicy = 'PreemptLowerPriority'): void {
  const spec = specOf(pod);
  if (typeof spec.priority !== 'number') spec.priority = priority;
  if (typeof spec.preemptionPolicy !== 'string') spec.preemptionPolicy = preemptionPolicy;
}

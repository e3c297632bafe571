/**
 * The defaults Kubernetes' v1 defaulting functions give a PodSpec and what it contains
 * (SetDefaults_PodSpec, _Container, _Probe, _HTTPGetAction, _Volume …). Shared by Pods,
 * PodTemplates, ReplicationControllers and the workload resources of other groups.
 */
import { arrAt, child, isObj, setDefault, type Obj } from '../group-checks.js';

/** `Always` for `:latest` or an untagged image, else `IfNotPresent` (as SetDefaults_Container). */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const noDigest = image.split('@')[0] ?? '';
  const hasDigest = image.includes('@');
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  const tag = colon >= 0 ? noDigest.slice(colon + 1) : hasDigest ? '' : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHTTPGet(handler: unknown): void {
  const get = isObj(handler) ? handler.httpGet : undefined;
  if (!isObj(get)) return;
  setDefault(get, 'path', '/');
  if (get.path === '') get.path = '/';
  setDefault(get, 'scheme', 'HTTP');
  if (get.scheme === '') get.scheme = 'HTTP';
}

function defaultProbe(probe: unknown): void {
  if (!isObj(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  for (const k of ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    if (probe[k] === 0) probe[k] = k === 'timeoutSeconds' || k === 'successThreshold' ? 1 : k === 'periodSeconds' ? 10 : 3;
  }
  defaultHTTPGet(probe);
  const grpc = probe.grpc;
  if (isObj(grpc)) setDefault(grpc, 'service', '');
}

function defaultFieldRef(ref: unknown): void {
  if (isObj(ref)) setDefault(ref, 'apiVersion', 'v1');
}

function defaultContainer(c: unknown, hostNetwork: boolean, probes: boolean): void {
  if (!isObj(c)) return;
  if (c.imagePullPolicy === undefined || c.imagePullPolicy === '') c.imagePullPolicy = defaultImagePullPolicy(typeof c.image === 'string' ? c.image : '');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  if (c.terminationMessagePath === '') c.terminationMessagePath = '/dev/termination-log';
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (c.terminationMessagePolicy === '') c.terminationMessagePolicy = 'File';
  setDefault(c, 'resources', {});
  for (const p of arrAt(c, 'ports')) {
    if (!isObj(p)) continue;
    if (p.protocol === undefined || p.protocol === '') p.protocol = 'TCP';
    if (hostNetwork && (p.hostPort === undefined || p.hostPort === 0)) p.hostPort = p.containerPort;
  }
  for (const e of arrAt(c, 'env')) {
    if (isObj(e) && isObj(e.valueFrom)) defaultFieldRef(e.valueFrom.fieldRef);
  }
  if (probes) {
    defaultProbe(c.livenessProbe);
    defaultProbe(c.readinessProbe);
    defaultProbe(c.startupProbe);
  }
  const lifecycle = c.lifecycle;
  if (isObj(lifecycle)) {
    defaultHTTPGet(lifecycle.postStart);
    defaultHTTPGet(lifecycle.preStop);
  }
}

const volumeSources = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
] as const;

/** The volume source keys a Volume may carry (exactly one is allowed). */
export const podVolumeSources: readonly string[] = volumeSources;

function defaultDownwardAPIItems(items: unknown[]): void {
  for (const it of items) if (isObj(it)) defaultFieldRef(it.fieldRef);
}

function defaultVolume(v: unknown): void {
  if (!isObj(v)) return;
  if (!podVolumeSources.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  if (isObj(v.secret)) setDefault(v.secret, 'defaultMode', 420);
  if (isObj(v.configMap)) setDefault(v.configMap, 'defaultMode', 420);
  if (isObj(v.downwardAPI)) {
    setDefault(v.downwardAPI, 'defaultMode', 420);
    defaultDownwardAPIItems(arrAt(v.downwardAPI, 'items'));
  }
  if (isObj(v.projected)) {
    setDefault(v.projected, 'defaultMode', 420);
    for (const src of arrAt(v.projected, 'sources')) {
      if (!isObj(src)) continue;
      if (isObj(src.serviceAccountToken)) setDefault(src.serviceAccountToken, 'expirationSeconds', 3600);
      if (isObj(src.downwardAPI)) defaultDownwardAPIItems(arrAt(src.downwardAPI, 'items'));
    }
  }
  if (isObj(v.hostPath)) setDefault(v.hostPath, 'type', '');
  if (isObj(v.iscsi)) setDefault(v.iscsi, 'iscsiInterface', 'default');
  if (isObj(v.azureDisk)) {
    setDefault(v.azureDisk, 'cachingMode', 'ReadWrite');
    setDefault(v.azureDisk, 'fsType', 'ext4');
    setDefault(v.azureDisk, 'readOnly', false);
    setDefault(v.azureDisk, 'kind', 'Shared');
  }
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate) && isObj(v.ephemeral.volumeClaimTemplate.spec)) {
    setDefault(v.ephemeral.volumeClaimTemplate.spec, 'volumeMode', 'Filesystem');
  }
}

/** Fills the defaults of a PodSpec in place (pods and pod templates alike). */
export function defaultPodSpec(spec: Obj): void {
  if (spec.dnsPolicy === undefined || spec.dnsPolicy === '') spec.dnsPolicy = 'ClusterFirst';
  if (spec.restartPolicy === undefined || spec.restartPolicy === '') spec.restartPolicy = 'Always';
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  if (spec.schedulerName === undefined || spec.schedulerName === '') spec.schedulerName = 'default-scheduler';
  // v1's deprecated `serviceAccount` mirrors `serviceAccountName` (conversion does this in Kubernetes).
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const c of arrAt(spec, 'initContainers')) {
    defaultContainer(c, hostNetwork, true);
  }
  for (const c of arrAt(spec, 'containers')) defaultContainer(c, hostNetwork, true);
  for (const c of arrAt(spec, 'ephemeralContainers')) defaultContainer(c, hostNetwork, false);
  for (const v of arrAt(spec, 'volumes')) defaultVolume(v);
}

/** Pods only (SetDefaults_Pod): requests default to limits, and service links are on. */
export function defaultPodOnlyFields(spec: Obj): void {
  setDefault(spec, 'enableServiceLinks', true);
  for (const c of [...arrAt(spec, 'initContainers'), ...arrAt(spec, 'containers')]) {
    if (!isObj(c) || !isObj(c.resources) || !isObj(c.resources.limits)) continue;
    const limits = c.resources.limits;
    const requests = child(c.resources, 'requests');
    for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
  }
}

/** Defaults a `PodTemplateSpec` (`{metadata, spec}`) in place. */
export function defaultPodTemplateSpec(template: unknown): void {
  if (!isObj(template)) return;
  if (isObj(template.spec)) defaultPodSpec(template.spec);
}

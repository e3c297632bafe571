/**
 * Printers for the core ("") group: pods, services, endpoints, config maps, secrets, service
 * accounts, nodes, namespaces, volumes and claims, replication controllers, quotas, templates.
 */

import type {
  ConfigMap,
  Endpoints,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  PodTemplate,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import { translateTimestampSince } from './age.js';
import { containerCells, formatLabels, joinHostPort, sortedUnique } from './format.js';
import { podPrinter } from './pod.js';
import { ageColumn, column, definePrinter, defaultPrinter, nameColumn, type Printer } from './table.js';

const CONTAINERS_DESC = 'Names of each container in the template.';
const IMAGES_DESC = 'Images referenced by each container in the template.';

/** Joined LoadBalancer ingress IPs (or hostnames), sorted and unique; shared with Ingress. */
export function loadBalancerAddresses(ingress: readonly { ip?: string; hostname?: string }[] | undefined): string {
  const found: string[] = [];
  for (const i of ingress ?? []) {
    if (i.ip) found.push(i.ip);
    else if (i.hostname) found.push(i.hostname);
  }
  // The API server prints wide, so the 16-character clipping of narrow output never applies.
  return sortedUnique(found).join(',');
}

function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** The PORT(S) cell: `80/TCP`, `80:30080/TCP`, comma-joined. */
export function servicePorts(svc: Service): string {
  const parts = (svc.spec?.ports ?? []).map((p) => {
    const protocol = p.protocol ?? 'TCP';
    return p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
  });
  return parts.length > 0 ? parts.join(',') : '<none>';
}

const servicePrinter = definePrinter<Service>(
  [
    nameColumn(),
    column('Type', 'string', 'type determines how the Service is exposed.'),
    column('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    column('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    column('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    ageColumn(),
    column('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
  ],
  (svc, now) => [
    svc.metadata?.name ?? '',
    svc.spec?.type ?? 'ClusterIP',
    svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>',
    serviceExternalIP(svc),
    servicePorts(svc),
    translateTimestampSince(svc.metadata?.creationTimestamp, now),
    formatLabels(svc.spec?.selector),
  ],
);

/** `formatEndpoints`: up to three `ip:port`, then `+ N more...`; `<none>` without subsets. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  let more = false;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      // Headless services may have addresses without ports.
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, p.port));
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

const endpointsPrinter = definePrinter<Endpoints>(
  [nameColumn(), column('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageColumn()],
  (ep, now) => [ep.metadata?.name ?? '', formatEndpoints(ep), translateTimestampSince(ep.metadata?.creationTimestamp, now)],
);

const configMapPrinter = definePrinter<ConfigMap>(
  [nameColumn(), column('Data', 'string', 'Data contains the configuration data.'), ageColumn()],
  (cm, now) => [
    cm.metadata?.name ?? '',
    Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
    translateTimestampSince(cm.metadata?.creationTimestamp, now),
  ],
);

const secretPrinter = definePrinter<Secret>(
  [nameColumn(), column('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), column('Data', 'string', 'Data contains the secret data.'), ageColumn()],
  (s, now) => [s.metadata?.name ?? '', s.type ?? '', Object.keys(s.data ?? {}).length, translateTimestampSince(s.metadata?.creationTimestamp, now)],
);

const serviceAccountPrinter = definePrinter<ServiceAccount>(
  [nameColumn(), column('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn()],
  (sa, now) => [sa.metadata?.name ?? '', (sa.secrets ?? []).length, translateTimestampSince(sa.metadata?.creationTimestamp, now)],
);

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** Roles from `node-role.kubernetes.io/<role>` labels and a `kubernetes.io/role` label, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles: string[] = [];
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role) roles.push(role);
    } else if (k === NODE_ROLE_LABEL && v !== '') {
      roles.push(v);
    }
  }
  return sortedUnique(roles);
}

function nodeStatus(node: Node): string {
  const status: string[] = [];
  // Only the Ready condition is shown; the last one of that type wins, like Kubernetes' map.
  const ready = [...(node.status?.conditions ?? [])].reverse().find((c) => c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

const nodePrinter = definePrinter<Node>(
  [
    nameColumn(),
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn(),
    column('Version', 'string', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
    column('External-IP', 'string', 'List of addresses reachable to the node.', 1),
    column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    column('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  (node, now) => {
    const info = node.status?.nodeInfo;
    const roles = nodeRoles(node).join(',');
    return [
      node.metadata?.name ?? '',
      nodeStatus(node),
      roles || '<none>',
      translateTimestampSince(node.metadata?.creationTimestamp, now),
      info?.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
);

const namespacePrinter = definePrinter<Namespace>(
  [nameColumn(), column('Status', 'string', 'The status of the namespace'), ageColumn()],
  (ns, now) => [ns.metadata?.name ?? '', ns.status?.phase ?? '', translateTimestampSince(ns.metadata?.creationTimestamp, now)],
);

/** `GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once. */
export function accessModes(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? []);
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const persistentVolumePrinter = definePrinter<PersistentVolume>(
  [
    nameColumn(),
    column('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    column('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    column('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    column('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    column('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageColumn(),
    column('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
  ],
  (pv, now) => {
    const claimRef = pv.spec?.claimRef;
    const claim = claimRef ? `${claimRef.namespace ?? ''}/${claimRef.name ?? ''}` : '';
    const phase = pv.metadata?.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '';
    const storageClass = pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? pv.spec?.storageClassName ?? '';
    return [
      pv.metadata?.name ?? '',
      // An absent capacity prints as the zero Quantity.
      pv.spec?.capacity?.['storage'] ?? '0',
      accessModes(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      storageClass,
      pv.spec?.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      translateTimestampSince(pv.metadata?.creationTimestamp, now),
      pv.spec?.volumeMode ?? '<unset>',
    ];
  },
);

const persistentVolumeClaimPrinter = definePrinter<PersistentVolumeClaim>(
  [
    nameColumn(),
    column('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    column('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    column('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    column('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    column('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', 1),
  ],
  (pvc, now) => {
    const bound = !!pvc.spec?.volumeName;
    const phase = pvc.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? '';
    const storageClass = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? pvc.spec?.storageClassName ?? '';
    return [
      pvc.metadata?.name ?? '',
      phase,
      pvc.spec?.volumeName ?? '',
      bound ? pvc.status?.capacity?.['storage'] ?? '0' : '',
      bound ? accessModes(pvc.status?.accessModes) : '',
      storageClass,
      pvc.spec?.volumeAttributesClassName ?? '<unset>',
      translateTimestampSince(pvc.metadata?.creationTimestamp, now),
      pvc.spec?.volumeMode ?? '<unset>',
    ];
  },
);

const replicationControllerPrinter = definePrinter<ReplicationController>(
  [
    nameColumn(),
    column('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    column('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
    column('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count.', 1),
  ],
  (rc, now) => {
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return [
      rc.metadata?.name ?? '',
      rc.spec?.replicas ?? 1,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      translateTimestampSince(rc.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
);

const resourceQuotaPrinter = definePrinter<ResourceQuota>(
  [
    nameColumn(),
    column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ageColumn(),
  ],
  (rq, now) => {
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const name of Object.keys(hard).sort()) {
      const text = `${name}: ${used[name] ?? '0'}/${hard[name]}`;
      const pieces = name.split('.');
      if (pieces.length > 1 && pieces[0] === 'limits') limits.push(text);
      else requests.push(text);
    }
    return [rq.metadata?.name ?? '', requests.join(', '), limits.join(', '), translateTimestampSince(rq.metadata?.creationTimestamp, now)];
  },
);

const podTemplatePrinter = definePrinter<PodTemplate>(
  [
    nameColumn(),
    column('Containers', 'string', CONTAINERS_DESC),
    column('Images', 'string', IMAGES_DESC),
    column('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  (pt) => {
    const [names, images] = containerCells(pt.template?.spec?.containers);
    return [pt.metadata?.name ?? '', names, images, formatLabels(pt.template?.metadata?.labels)];
  },
);

/** Core-group printers, keyed `/resource`. Events live in events.ts. */
export const printers: Record<string, Printer> = {
  '/pods': podPrinter,
  '/podtemplates': podTemplatePrinter,
  '/services': servicePrinter,
  '/endpoints': endpointsPrinter,
  '/configmaps': configMapPrinter,
  '/secrets': secretPrinter,
  '/serviceaccounts': serviceAccountPrinter,
  '/nodes': nodePrinter,
  '/namespaces': namespacePrinter,
  '/persistentvolumes': persistentVolumePrinter,
  '/persistentvolumeclaims': persistentVolumeClaimPrinter,
  '/replicationcontrollers': replicationControllerPrinter,
  '/resourcequotas': resourceQuotaPrinter,
  // Kubernetes has no LimitRange printer: it serves the default NAME / CREATED AT table.
  '/limitranges': defaultPrinter,
};

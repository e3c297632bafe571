/** Printers for the `apps` group: deployments, replica sets, stateful sets, daemon sets, revisions. */

import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { translateTimestampSince } from './age.js';
import { containerCells, formatLabelSelector, formatLabels, labelSelectorString } from './format.js';
import { ageColumn, column, definePrinter, nameColumn, type Printer } from './table.js';

const CONTAINERS_DESC = 'Names of each container in the template.';
const IMAGES_DESC = 'Images referenced by each container in the template.';

const deploymentPrinter = definePrinter<Deployment>(
  [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
    column('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
  ],
  (d, now) => {
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return [
      d.metadata?.name ?? '',
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      translateTimestampSince(d.metadata?.creationTimestamp, now),
      names,
      images,
      labelSelectorString(d.spec?.selector) ?? '<invalid>',
    ];
  },
);

const replicaSetPrinter = definePrinter<ReplicaSet>(
  [
    nameColumn(),
    column('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    column('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
    column('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1),
  ],
  (rs, now) => {
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      rs.metadata?.name ?? '',
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      translateTimestampSince(rs.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
);

const statefulSetPrinter = definePrinter<StatefulSet>(
  [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
  ],
  (ss, now) => {
    const [names, images] = containerCells(ss.spec?.template?.spec?.containers);
    return [
      ss.metadata?.name ?? '',
      `${ss.status?.readyReplicas ?? 0}/${ss.spec?.replicas ?? 1}`,
      translateTimestampSince(ss.metadata?.creationTimestamp, now),
      names,
      images,
    ];
  },
);

const daemonSetPrinter = definePrinter<DaemonSet>(
  [
    nameColumn(),
    column('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).'),
    column('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    column('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    column('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    column('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
    column('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESC, 1),
    column('Images', 'string', IMAGES_DESC, 1),
    column('Selector', 'string', 'A label query over pods that are managed by the daemon set.', 1),
  ],
  (ds, now) => {
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    const s = ds.status;
    return [
      ds.metadata?.name ?? '',
      s?.desiredNumberScheduled ?? 0,
      s?.currentNumberScheduled ?? 0,
      s?.numberReady ?? 0,
      s?.updatedNumberScheduled ?? 0,
      s?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      translateTimestampSince(ds.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
);

/** `kind.group/name` (lower-cased) of the controlling owner, or `<none>`. */
function controllerOf(cr: ControllerRevision): string {
  const ref = (cr.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash >= 0 ? ref.apiVersion.slice(0, slash) : '';
  if (!ref.kind && !group) return ref.name;
  const groupKind = group ? `${ref.kind}.${group}` : ref.kind;
  return `${groupKind.toLowerCase()}/${ref.name}`;
}

const controllerRevisionPrinter = definePrinter<ControllerRevision>(
  [
    nameColumn(),
    column('Controller', 'string', 'Controller of the object'),
    column('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'),
    ageColumn(),
  ],
  (cr, now) => [cr.metadata?.name ?? '', controllerOf(cr), cr.revision, translateTimestampSince(cr.metadata?.creationTimestamp, now)],
);

export const printers: Record<string, Printer> = {
  'apps/deployments': deploymentPrinter,
  'apps/replicasets': replicaSetPrinter,
  'apps/statefulsets': statefulSetPrinter,
  'apps/daemonsets': daemonSetPrinter,
  'apps/controllerrevisions': controllerRevisionPrinter,
};

/**
 * Printers for the smaller groups: autoscaling (HPA), coordination (leases), storage
 * (storage classes), policy (PDBs), scheduling (priority classes) and apiextensions (CRDs).
 */

import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { translateTimestampSince } from './age.js';
import { quantity } from './format.js';
import { ageColumn, column, definePrinter, defaultPrinter, nameColumn, type Printer } from './table.js';

/** The autoscaling/v1 fields, for HPAs stored or sent in that shape. */
interface HpaV1Fields {
  spec?: { targetCPUUtilizationPercentage?: number };
  status?: { currentCPUUtilizationPercentage?: number };
}

/** Metrics of an autoscaling/v2 HPA, or the v1 CPU target converted as Kubernetes converts it. */
function hpaMetrics(hpa: HorizontalPodAutoscaler): { specs: MetricSpec[]; statuses: MetricStatus[] } {
  if (hpa.spec?.metrics) return { specs: hpa.spec.metrics, statuses: hpa.status?.currentMetrics ?? [] };
  const v1 = hpa as HpaV1Fields;
  const target = v1.spec?.targetCPUUtilizationPercentage;
  if (target === undefined) return { specs: [], statuses: [] };
  const specs: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }];
  const current = v1.status?.currentCPUUtilizationPercentage;
  const statuses: MetricStatus[] =
    current === undefined ? [] : [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }];
  return { specs, statuses };
}

/** `formatHPAMetrics`: e.g. `cpu: 50%/80%, memory: <unknown>/500Mi + 1 more...`. */
export function formatHpaMetrics(specs: readonly MetricSpec[], statuses: readonly MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const status: MetricStatus | undefined = statuses[i];
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const target = spec.type === 'External' ? spec.external?.target : spec.object?.target;
        const current = spec.type === 'External' ? status?.external?.current : status?.object?.current;
        const present = spec.type === 'External' ? status?.external !== undefined : status?.object !== undefined;
        if (target?.averageValue !== undefined) {
          const cur = present && current?.averageValue !== undefined ? current.averageValue : '<unknown>';
          list.push(`${cur}/${target.averageValue} (avg)`);
        } else {
          const cur = present ? quantity(current?.value) : '<unknown>';
          list.push(`${cur}/${quantity(target?.value)}`);
        }
        break;
      }
      case 'Pods': {
        const cur = status?.pods !== undefined ? quantity(status.pods.current?.averageValue) : '<unknown>';
        list.push(`${cur}/${quantity(spec.pods?.target?.averageValue)}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const st = spec.type === 'Resource' ? status?.resource : status?.containerResource;
        const name = source?.name ?? '';
        if (source?.target?.averageValue !== undefined) {
          const cur = st !== undefined ? quantity(st.current?.averageValue) : '<unknown>';
          list.push(`${name}: ${cur}/${source.target.averageValue}`);
        } else {
          const util = st?.current?.averageUtilization;
          const cur = util !== undefined ? `${util}%` : '<unknown>';
          const t = source?.target?.averageUtilization;
          list.push(`${name}: ${cur}/${t !== undefined ? `${t}%` : '<auto>'}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

const hpaPrinter = definePrinter<HorizontalPodAutoscaler>(
  [
    nameColumn(),
    column('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
    column('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
    column('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    column('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    column('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    ageColumn(),
  ],
  (hpa, now) => {
    const { specs, statuses } = hpaMetrics(hpa);
    const min = hpa.spec?.minReplicas;
    return [
      hpa.metadata?.name ?? '',
      `${hpa.spec?.scaleTargetRef?.kind ?? ''}/${hpa.spec?.scaleTargetRef?.name ?? ''}`,
      formatHpaMetrics(specs, statuses),
      min !== undefined && min !== null ? String(min) : '<unset>',
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      translateTimestampSince(hpa.metadata?.creationTimestamp, now),
    ];
  },
);

const leasePrinter = definePrinter<Lease>(
  [nameColumn(), column('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), ageColumn()],
  (l, now) => [l.metadata?.name ?? '', l.spec?.holderIdentity ?? '', translateTimestampSince(l.metadata?.creationTimestamp, now)],
);

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

const storageClassPrinter = definePrinter<StorageClass>(
  [
    nameColumn(),
    column('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
    column('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
    column('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageColumn(),
  ],
  (sc, now) => {
    const a = sc.metadata?.annotations ?? {};
    const isDefault = a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
    return [
      `${sc.metadata?.name ?? ''}${isDefault ? ' (default)' : ''}`,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      translateTimestampSince(sc.metadata?.creationTimestamp, now),
    ];
  },
);

const pdbPrinter = definePrinter<PodDisruptionBudget>(
  [
    nameColumn(),
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn(),
  ],
  (pdb, now) => {
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return [
      pdb.metadata?.name ?? '',
      min !== undefined && min !== null ? String(min) : 'N/A',
      max !== undefined && max !== null ? String(max) : 'N/A',
      pdb.status?.disruptionsAllowed ?? 0,
      translateTimestampSince(pdb.metadata?.creationTimestamp, now),
    ];
  },
);

const priorityClassPrinter = definePrinter<PriorityClass>(
  [
    nameColumn(),
    column('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
    column('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.'),
    ageColumn(),
    column('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
  ],
  (pc, now) => [
    pc.metadata?.name ?? '',
    pc.value,
    pc.globalDefault ?? false,
    translateTimestampSince(pc.metadata?.creationTimestamp, now),
    pc.preemptionPolicy ?? '',
  ],
);

export const printers: Record<string, Printer> = {
  'autoscaling/horizontalpodautoscalers': hpaPrinter,
  'coordination.k8s.io/leases': leasePrinter,
  'storage.k8s.io/storageclasses': storageClassPrinter,
  'policy/poddisruptionbudgets': pdbPrinter,
  'scheduling.k8s.io/priorityclasses': priorityClassPrinter,
  // The CRD registry serves the default table (NAME, CREATED AT).
  'apiextensions.k8s.io/customresourcedefinitions': defaultPrinter,
};

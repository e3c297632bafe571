import { ControllerRegistry } from '../controllers/controller.js';
import { ReplicaSetController } from '../controllers/replicaset.js';
import { ReplicationControllerController } from '../controllers/replicationcontroller.js';
import { DeploymentController } from '../controllers/deployment.js';
import { NodeIpamController } from '../controllers/node-ipam.js';
import { GarbageCollector } from '../controllers/garbage-collector.js';
import { JobController, TTLAfterFinishedController } from '../controllers/job.js';
import { NodeLifecycleController } from '../controllers/node-lifecycle.js';
import { CronJobController } from '../controllers/cronjob.js';
import { DaemonSetController } from '../controllers/daemonset.js';
import { StatefulSetController } from '../controllers/statefulset.js';
import { PersistentVolumeBinder } from '../controllers/persistent-volume-binder.js';
import { LocalPathProvisioner } from '../controllers/local-path-provisioner.js';
import { ResourceQuotaController } from '../controllers/resource-quota.js';
import { DisruptionController } from '../controllers/disruption.js';
import { ServiceAccountController } from '../controllers/serviceaccount.js';
import { RootCAPublisher } from '../controllers/root-ca-publisher.js';
import { EndpointsController } from '../controllers/endpoints.js';
import { EndpointSliceController } from '../controllers/endpointslice.js';
import { HorizontalPodAutoscalerController } from '../controllers/horizontal-pod-autoscaler.js';
import { ServiceLBController } from '../controllers/service-lb.js';
import { IngressStatusController } from '../controllers/ingress-status.js';

/** Every controller `k8ts server` runs, by the name `--disable-controllers` would use. */
export function builtinControllers(): ControllerRegistry {
  return new ControllerRegistry()
    .register('replicaset', ReplicaSetController)
    .register('replicationcontroller', ReplicationControllerController)
    .register('deployment', DeploymentController)
    .register('node-ipam', NodeIpamController)
    .register('garbage-collector', GarbageCollector)
    .register('serviceaccount', ServiceAccountController)
    .register('root-ca-publisher', RootCAPublisher)
    .register('job', JobController)
    .register('ttl-after-finished', TTLAfterFinishedController)
    .register('node-lifecycle', NodeLifecycleController)
    .register('cronjob', CronJobController)
    .register('daemonset', DaemonSetController)
    .register('statefulset', StatefulSetController)
    .register('persistent-volume-binder', PersistentVolumeBinder)
    .register('local-path-provisioner', LocalPathProvisioner)
    .register('resource-quota', ResourceQuotaController)
    .register('disruption', DisruptionController)
    .register('endpoints', EndpointsController)
    .register('endpointslice', EndpointSliceController)
    .register('horizontal-pod-autoscaler', HorizontalPodAutoscalerController)
    .register('service-lb', ServiceLBController)
    .register('ingress-status', IngressStatusController);
}

/** Resource usage as nodes report it and the metrics.k8s.io API serves it (types only). */

/** Usage of one container: CPU in nanocores, memory in bytes. */
export interface ContainerUsageSample {
  name: string;
  cpuNanoCores: number;
  memoryBytes: number;
}

/** What a node uses, sampled at `timestamp` over `windowSeconds`. */
export interface NodeUsageSample {
  name: string;
  labels: Record<string, string>;
  cpuNanoCores: number;
  memoryBytes: number;
  timestamp: Date;
  windowSeconds: number;
}

/** What a pod's containers use. */
export interface PodUsageSample {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  containers: ContainerUsageSample[];
  timestamp: Date;
  windowSeconds: number;
}

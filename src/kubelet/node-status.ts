/**
 * What every kubelet does for its own Node, whatever runs its pods: register the Node, post its
 * status (every `nodeStatusUpdateFrequency`, written only when it changed or every
 * `nodeStatusReportFrequency`), and renew its Lease in `kube-node-lease` (the heartbeat the node
 * lifecycle controller reads).
 */
import { readFileSync } from 'node:fs';
import { ApiError, isNotFound, type ApiObject, type Client } from '../client/interface.js';
import { refs } from '../client/informer.js';
import { realClock, type Clock } from '../machinery/clock.js';
import { deepEqual } from '../machinery/json-value.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Resource amounts of a node, as quantity strings (`8`, `32Gi`, `110`). */
export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  'ephemeral-storage'?: string;
  [resource: string]: string | undefined;
}

export interface NodeStatusOptions {
  nodeName: string;
  capacity: NodeResources;
  /** Defaults to capacity (nothing reserved). */
  allocatable?: NodeResources;
  /** Labels set at registration, on top of the well-known ones (hostname, os, arch). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The node's InternalIP. */
  internalIP: string;
  /** Defaults to the node name. */
  hostname?: string;
  /** `status.nodeInfo` fields to override (containerRuntimeVersion, osImage, kernelVersion …). */
  nodeInfo?: Record<string, string>;
  /** Taints to register with (`--register-with-taints`). */
  taints?: Array<{ key: string; value?: string; effect: string }>;
  clock?: Clock;
  /** How often the status is computed (kubelet `nodeStatusUpdateFrequency`, 10 s). */
  statusUpdateFrequencyMs?: number;
  /** An unchanged status is still written this often (kubelet `nodeStatusReportFrequency`, 5 min). */
  statusReportFrequencyMs?: number;
  /** How often the Lease is renewed (kubelet: 10 s, a quarter of its duration). */
  leaseRenewIntervalMs?: number;
  /** `spec.leaseDurationSeconds` of the Lease (kubelet `nodeLeaseDurationSeconds`, 40). */
  leaseDurationSeconds?: number;
  /** Delay before the first periodic tick, so that many nodes in one process do not beat together. */
  initialDelayMs?: number;
  /** The current Node from a cache, to avoid a GET per status tick; falls back to the API. */
  nodeLister?: (name: string) => ApiObject | undefined;
  /** Told about failed writes (they are retried on the next tick). */
  onError?: (err: unknown, what: string) => void;
  /**
   * Why the node cannot run pods yet (its pod network is not ready), or undefined when it can;
   * asked at every status update. The node is Ready only when this answers undefined.
   */
  notReadyReason?: () => string | undefined;
  /** Which eviction thresholds are crossed now (MemoryPressure, DiskPressure, PIDPressure). */
  pressure?: () => { memory: boolean; disk: boolean; pid: boolean } | undefined;
  /** The port of the kubelet's server (`status.daemonEndpoints`); 10250 unless told. */
  kubeletPort?: () => number;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** `v1.32.0+k8ts<version>`, as k3s writes `+k3s1`. */
export const kubeletVersion = `v1.32.0+k8ts${packageVersion()}`;

/** RFC 3339 with seconds, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime serializes (Lease renewTime). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function goArch(): string {
  const a = process.arch;
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

/** The kubelet's node conditions when all is well, in the order it writes them. */
const healthyConditions: Condition[] = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** The pressure conditions when their threshold is crossed. */
const pressureConditions: Record<string, Condition> = {
  MemoryPressure: { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' },
  DiskPressure: { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' },
  PIDPressure: { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' },
};

/**
 * Registers a Node and keeps its status and Lease fresh. `start()` registers and begins the
 * periodic work; `stop()` ends it (the node then goes NotReady once its Lease expires), and
 * `start()` again resumes.
 */
export class NodeStatusReporter {
  readonly nodeName: string;
  private readonly clock: Clock;
  private readonly updateMs: number;
  private readonly reportMs: number;
  private readonly leaseMs: number;
  private readonly leaseSeconds: number;
  private running = false;
  private cancelStatus: (() => void) | undefined;
  private cancelLease: (() => void) | undefined;
  private lastReport = 0;
  private node: ApiObject | undefined;
  private lease: ApiObject | undefined;
  /** Counts of writes, for tests and benchmarks. */
  readonly writes = { status: 0, lease: 0 };

  constructor(
    private readonly client: Client,
    private readonly opts: NodeStatusOptions,
  ) {
    this.nodeName = opts.nodeName;
    this.clock = opts.clock ?? realClock;
    this.updateMs = opts.statusUpdateFrequencyMs ?? 10_000;
    this.reportMs = opts.statusReportFrequencyMs ?? 300_000;
    this.leaseSeconds = opts.leaseDurationSeconds ?? 40;
    // The kubelet renews its Lease at a quarter of its duration (10 s of 40 s).
    this.leaseMs = opts.leaseRenewIntervalMs ?? this.leaseSeconds * 250;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The Node as last written or read. */
  get lastNode(): ApiObject | undefined {
    return this.node;
  }

  /** Creates the Node (or adopts an existing one, refreshing its status), renews the Lease once, then ticks. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.register();
    await this.renewLease().catch((e: unknown) => this.opts.onError?.(e, 'lease'));
    const first = this.opts.initialDelayMs ?? 0;
    this.scheduleStatus(first + this.updateMs);
    this.scheduleLease(first + this.leaseMs);
  }

  /** Stops heartbeats and status updates (a kubelet that went away). */
  stop(): void {
    this.running = false;
    this.cancelStatus?.();
    this.cancelLease?.();
    this.cancelStatus = this.cancelLease = undefined;
  }

  private scheduleStatus(ms: number): void {
    this.cancelStatus = this.clock.after(ms, () => {
      if (!this.running) return;
      void this.syncStatus()
        .catch((e: unknown) => this.opts.onError?.(e, 'status'))
        .finally(() => {
          if (this.running) this.scheduleStatus(this.updateMs);
        });
    });
  }

  private scheduleLease(ms: number): void {
    this.cancelLease = this.clock.after(ms, () => {
      if (!this.running) return;
      void this.renewLease()
        .catch((e: unknown) => this.opts.onError?.(e, 'lease'))
        .finally(() => {
          if (this.running) this.scheduleLease(this.leaseMs);
        });
    });
  }

  /** The Node object a kubelet registers. */
  initialNode(): ApiObject {
    const o = this.opts;
    const arch = goArch();
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: o.nodeName,
        labels: {
          'beta.kubernetes.io/arch': arch,
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': arch,
          'kubernetes.io/hostname': o.hostname ?? o.nodeName,
          'kubernetes.io/os': 'linux',
          ...o.labels,
        },
        annotations: {
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
          ...o.annotations,
        },
      },
      spec: o.taints?.length ? { taints: o.taints } : {},
      status: this.desiredStatus(undefined),
    };
  }

  /** Registers the Node; if it exists, keeps it and brings labels and status up to date. */
  async register(): Promise<ApiObject> {
    try {
      this.node = await this.client.create(refs.nodes, '', this.initialNode());
      this.lastReport = this.clock.now().getTime();
      this.writes.status++;
      return this.node;
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
    }
    const existing = await this.client.get(refs.nodes, '', this.nodeName);
    const wanted = this.initialNode().metadata?.labels ?? {};
    const labels = existing.metadata?.labels ?? {};
    if (Object.entries(wanted).some(([k, v]) => labels[k] !== v)) {
      this.node = await this.client.update(refs.nodes, '', { ...existing, metadata: { ...existing.metadata, labels: { ...labels, ...wanted } } });
    } else {
      this.node = existing;
    }
    await this.syncStatus(true);
    return this.node;
  }

  /** Status as this kubelet sees it now, with condition times carried over from `current`. */
  desiredStatus(current: ApiObject | undefined): Record<string, unknown> {
    const o = this.opts;
    const now = rfc3339(this.clock.now());
    const old = ((current?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];
    const notReady = o.notReadyReason?.();
    const pressure = o.pressure?.();
    const under: Record<string, boolean> = { MemoryPressure: !!pressure?.memory, DiskPressure: !!pressure?.disk, PIDPressure: !!pressure?.pid };
    const conditions = healthyConditions.map((healthy) => {
      const c = healthy.type === 'Ready' && notReady ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: notReady } : under[healthy.type] ? pressureConditions[healthy.type]! : healthy;
      const prev = old.find((p) => p.type === c.type);
      const same = prev && prev.status === c.status;
      return { ...c, lastHeartbeatTime: now, lastTransitionTime: same && prev.lastTransitionTime ? prev.lastTransitionTime : now };
    });
    // Conditions others own (e.g. NetworkUnavailable) are kept.
    for (const p of old) if (!conditions.some((c) => c.type === p.type)) conditions.push({ ...p } as Required<Condition>);
    const capacity = clean(o.capacity);
    const arch = goArch();
    return {
      capacity,
      allocatable: o.allocatable ? clean(o.allocatable) : { ...capacity },
      conditions,
      addresses: [
        { type: 'InternalIP', address: o.internalIP },
        { type: 'Hostname', address: o.hostname ?? o.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort?.() ?? 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '',
        osImage: '',
        containerRuntimeVersion: '',
        kubeletVersion,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: arch,
        ...o.nodeInfo,
      },
    };
  }

  private async currentNode(): Promise<ApiObject> {
    const cached = this.opts.nodeLister?.(this.nodeName);
    // The cache may lag behind our own last write; use whichever is newer.
    if (cached && (!this.node || Number(cached.metadata?.resourceVersion ?? 0) >= Number(this.node.metadata?.resourceVersion ?? 0))) return cached;
    if (this.node) return this.node;
    return this.client.get(refs.nodes, '', this.nodeName);
  }

  /**
   * One status tick: computes the status and writes it when it differs from the Node's (beyond
   * heartbeat times) or when the report period has passed. Retries conflicts against a fresh Node.
   */
  async syncStatus(force = false): Promise<void> {
    let node = await this.currentNode();
    for (let attempt = 0; ; attempt++) {
      const status = this.desiredStatus(node);
      const due = force || this.clock.now().getTime() - this.lastReport >= this.reportMs;
      if (!due && deepEqual(withoutHeartbeats(status), withoutHeartbeats((node['status'] ?? {}) as Record<string, unknown>))) return;
      const current = (node['status'] ?? {}) as Record<string, unknown>;
      try {
        this.node = await this.client.update(refs.nodes, '', { ...node, status: { ...current, ...status } }, { subresource: 'status' });
        this.writes.status++;
        this.lastReport = this.clock.now().getTime();
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409) || attempt >= 4) throw e;
        node = await this.client.get(refs.nodes, '', this.nodeName);
      }
    }
  }

  /** Renews (or creates) the node's Lease with renewTime now. */
  async renewLease(): Promise<void> {
    const now = microTime(this.clock.now());
    for (let attempt = 0; ; attempt++) {
      let lease = this.lease;
      try {
        if (!lease) lease = await this.client.get(refs.leases, NODE_LEASE_NAMESPACE, this.nodeName);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        lease = undefined;
      }
      const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: this.leaseSeconds, renewTime: now };
      const owner = this.node?.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: this.node.metadata.uid }] : undefined;
      try {
        if (!lease) {
          this.lease = await this.client.create(refs.leases, NODE_LEASE_NAMESPACE, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.nodeName, namespace: NODE_LEASE_NAMESPACE, ...(owner ? { ownerReferences: owner } : {}) },
            spec,
          });
        } else {
          const meta = { ...lease.metadata };
          if (owner && !Array.isArray(meta['ownerReferences'])) meta['ownerReferences'] = owner;
          this.lease = await this.client.update(refs.leases, NODE_LEASE_NAMESPACE, { ...lease, metadata: meta, spec: { ...(lease['spec'] as object), ...spec } });
        }
        this.writes.lease++;
        return;
      } catch (e) {
        this.lease = undefined;
        const retry = e instanceof ApiError && (e.code === 409 || e.code === 404);
        if (!retry || attempt >= 4) throw e;
      }
    }
  }
}

function clean(r: NodeResources): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
  return out;
}

function withoutHeartbeats(status: Record<string, unknown>): unknown {
  const conds = Array.isArray(status['conditions']) ? (status['conditions'] as Array<Record<string, unknown>>) : [];
  const rest: Record<string, unknown> = {};
  for (const k of ['capacity', 'allocatable', 'addresses', 'nodeInfo', 'daemonEndpoints']) rest[k] = status[k];
  rest['conditions'] = conds.map((c) => {
    const { lastHeartbeatTime: _h, ...other } = c;
    return other;
  });
  return rest;
}

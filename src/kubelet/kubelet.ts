/**
 * The kubelet on containerd: registers this machine as a Node (capacity read from the machine),
 * keeps its status and Lease fresh, writes the node's CNI config once it has a pod range, loads
 * image archives, and runs the pods bound to it through the CRI. Pods are synced by a work queue
 * (one sync per pod at a time); a relist of the runtime every second (the kubelet's PLEG) notices
 * containers that exited on their own.
 */
import { availableParallelism, release, totalmem } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiObject, Client } from '../client/interface.js';
import { isNotFound } from '../client/interface.js';
import { keyOf, refs, SharedInformer } from '../client/informer.js';
import { WorkQueue, runWorker } from '../client/workqueue.js';
import { ClientEventRecorder, type EventRecorder } from '../client/event-recorder.js';
import type { Logger } from '../machinery/logger.js';
import { realClock } from '../machinery/clock.js';
import { NodeStatusReporter } from './node-status.js';
import { CriClient } from './cri/cri-client.js';
import { PAUSE_IMAGE, type RunningContainerd } from './containerd/containerd-process.js';
import { CNI_BRIDGE, ensureBridge, writeCniConfig } from './cni-config.js';
import { buildPauseImage } from './images/pause-image.js';
import { importArchive } from './images/oci-archive.js';
import { ImageManager } from './image-manager.js';
import { PodSync, containerFieldPath } from './pod-sync.js';
import { labels } from './container-config.js';
import { KubeletServer, type ContainerLogTarget } from './server/kubelet-server.js';
import { CriStreamingRuntime, containerRuns } from './streaming-runtime.js';
import { StatsProvider } from './stats/stats-provider.js';
import { PressureTracker, type Pressure } from './stats/eviction-thresholds.js';
import { annotations as staticAnnotations, isMirrorPod, isStaticPod, mirrorPod, readManifests } from './static-pods.js';
import { VolumeManager } from './volumes/volume-manager.js';
import { ProbeManager } from './probes/probe-manager.js';
import type { EnvSources } from './container-env.js';

export interface KubeletOptions {
  client: Client;
  nodeName: string;
  /** `DATA_DIR/agent`: pods, logs, images, CNI state. */
  agentDir: string;
  containerd: RunningContainerd;
  internalIP: string;
  clusterDNS: string[];
  clusterDomain?: string;
  maxPods?: number;
  leaseDurationSeconds?: number;
  labels?: Record<string, string>;
  /** Static pod manifests (`--pod-manifest-path`); none when undefined. */
  podManifestPath?: string;
  /** The bearer token the API server presents to this kubelet's server (the join secret). */
  serverToken: string;
  /** The cluster's client CA (PEM), to verify the API server's client certificate. */
  clientCA?: string;
  /** Port of the kubelet's HTTPS server (10250; 0 picks a free one). */
  port?: number;
  /** The pod network's bridge (`k8ts0`); tests give each cluster its own. */
  bridge?: string;
  log: Logger;
  recorder?: EventRecorder;
  /** The node's cache of Services (shared with kube-proxy and DNS), for pods' service environment variables. */
  services: SharedInformer;
}

function osImage(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** Capacity as the kubelet reads it off the machine. */
export function machineCapacity(dir: string, maxPods: number): { cpu: string; memory: string; pods: string; 'ephemeral-storage': string } {
  const fs = statfsSync(dir);
  return {
    cpu: String(availableParallelism()),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: String(maxPods),
    'ephemeral-storage': `${Math.floor((fs.blocks * fs.bsize) / 1024)}Ki`,
  };
}

/** How often every pod is synced again without a reason (kubelet `--sync-frequency`, 1 min). */
const RESYNC_MS = 30_000;

export class Kubelet {
  private readonly cri: CriClient;
  private readonly reporter: NodeStatusReporter;
  private readonly pods: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly queue = new WorkQueue<string>({ clock: realClock });
  private readonly sync: PodSync;
  private readonly probes: ProbeManager;
  private readonly volumes: VolumeManager;
  private readonly recorder: EventRecorder;
  private readonly stats: StatsProvider;
  private statsTimer: NodeJS.Timeout | undefined;
  /** Node pressure as judged at the last housekeeping, for the node's conditions. */
  private readonly pressureTracker = new PressureTracker();
  private pressure: Pressure | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Pods by key, as last seen (a deleted pod is still known here until it is cleaned up). */
  private readonly known = new Map<string, Pod>();
  /** Static pods from the manifest folder, by key (the same key as their mirror pods). */
  private staticPods = new Map<string, Pod>();
  private manifestTimer: NodeJS.Timeout | undefined;
  private manifestErrors = '';
  private relistTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private server: KubeletServer | undefined;
  private serverPort = 10250;
  private lastRelist = new Map<string, string>();
  private stopped = false;
  private cniWritten = '';
  /** Pods being stopped for deletion, with the grace period their kill was given. */
  private readonly terminating = new Map<string, { uid: string; grace: number; done: Promise<void> }>();
  private resolvePodNetwork!: (n: { podCIDR: string; gateway: string }) => void;
  /** The node's pod range and the bridge's address on it, once the node has a podCIDR. */
  readonly podNetwork = new Promise<{ podCIDR: string; gateway: string }>((resolve) => (this.resolvePodNetwork = resolve));
  /** Filled in at start with what the runtime reports. */
  private readonly nodeInfo: Record<string, string> = { osImage: osImage(), kernelVersion: release() };

  constructor(private readonly o: KubeletOptions) {
    this.cri = new CriClient(o.containerd.endpoint);
    this.stats = new StatsProvider({
      cri: this.cri,
      nodeName: o.nodeName,
      dataDir: o.agentDir,
      podLogsDir: join(o.agentDir, 'logs', 'pods'),
      podStartTime: (uid) => [...this.known.values()].find((p) => p.metadata?.uid === uid)?.status?.startTime,
    });
    const maxPods = o.maxPods ?? 110;
    const capacity = machineCapacity(o.agentDir, maxPods);
    this.recorder = o.recorder ?? new ClientEventRecorder(o.client, 'kubelet', o.nodeName);
    this.reporter = new NodeStatusReporter(o.client, {
      nodeName: o.nodeName,
      capacity,
      internalIP: o.internalIP,
      // As k3s passes --hostname-override: the node's name is its hostname label and address,
      // which volume node affinity (local-path) and hostname topology keys match on.
      hostname: o.nodeName,
      labels: o.labels,
      leaseDurationSeconds: o.leaseDurationSeconds,
      nodeInfo: this.nodeInfo,
      kubeletPort: () => this.serverPort,
      pressure: () => this.pressure,
      onError: (err, what) => o.log.debug('node status write failed', { what, error: err instanceof Error ? err.message : String(err) }),
    });
    this.pods = new SharedInformer(o.client, refs.pods, { fieldSelector: `spec.nodeName=${o.nodeName}` });
    this.nodes = new SharedInformer(o.client, refs.nodes, { fieldSelector: `metadata.name=${o.nodeName}` });
    this.probes = new ProbeManager({
      onChange: (uid, name, kind, result) => {
        const pod = [...this.known.values()].find((p) => p.metadata?.uid === uid);
        if (!pod) return;
        if ((kind === 'liveness' || kind === 'startup') && result === 'failure') {
          const cs = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((c) => c.name === name);
          const id = cs?.containerID?.replace(/^containerd:\/\//, '');
          if (id) this.sync.markForRestart(id, `Container ${name} failed ${kind} probe, will be restarted`);
        }
        this.queue.add(keyOf(pod as ApiObject));
      },
      onEvent: (pod, type, reason, message, container) => this.recorder.event({ apiVersion: 'v1', kind: 'Pod', ...pod } as ApiObject, type, reason, message, containerFieldPath(pod, container)),
    });
    const services = o.services;
    this.volumes = new VolumeManager({ client: o.client, podsDir: join(o.agentDir, 'pods'), nodeName: o.nodeName, log: o.log.child('volumes') });
    const envSources: EnvSources = {
      configMap: async (ns, name) => this.getOrUndefined(refs.configmaps, ns, name),
      secret: async (ns, name) => this.getOrUndefined(refs.secrets, ns, name),
      // From a cache, as the kubelet's service lister: one LIST per container start would cost
      // the API server a scan of the namespace's Services each time.
      services: async (ns) => {
        await services.start();
        const own = services.list(ns);
        return [...own, ...(ns === 'default' ? [] : services.list('default').filter((s) => s.metadata?.name === 'kubernetes'))] as never[];
      },
    };
    this.sync = new PodSync({
      client: o.client,
      cri: this.cri,
      images: new ImageManager(this.cri),
      volumes: this.volumes,
      probes: this.probes,
      envSources,
      recorder: this.recorder,
      node: {
        nodeName: o.nodeName,
        hostIP: o.internalIP,
        allocatable: { cpu: capacity.cpu, memory: capacity.memory },
        clusterDNS: o.clusterDNS,
        clusterDomain: o.clusterDomain ?? 'cluster.local',
        podLogsDir: join(o.agentDir, 'logs', 'pods'),
      },
      log: o.log,
      requeueAt: (pod, at) => this.requeueAt(keyOf(pod as ApiObject), at),
      statusTarget: (pod) => {
        if (!isStaticPod(pod)) return pod;
        const mirror = this.pods.getByKey(keyOf(pod as ApiObject)) as Pod | undefined;
        return mirror && isMirrorPod(mirror) ? mirror : undefined;
      },
    });
  }

  private async getOrUndefined<T>(ref: typeof refs.configmaps, ns: string, name: string): Promise<T | undefined> {
    try {
      return (await this.o.client.get(ref, ns, name)) as T;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private requeueAt(key: string, at: number): void {
    const delay = Math.max(0, at - Date.now());
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) this.queue.add(key);
    }, delay);
    t.unref();
    this.timers.add(t);
  }

  async start(): Promise<void> {
    mkdirSync(join(this.o.agentDir, 'logs', 'pods'), { recursive: true });
    const version = await this.cri.runtime<{ runtimeName: string; runtimeVersion: string }>('Version', { version: 'v1' });
    this.nodeInfo['containerRuntimeVersion'] = `${version.runtimeName}://${version.runtimeVersion}`;
    await this.loadImages();
    this.nodes.addEventHandler({ onAdd: (n) => this.nodeChanged(n), onUpdate: (_o, n) => this.nodeChanged(n) });
    this.pods.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (_o, p) => this.podChanged(p),
      onDelete: (p) => this.podChanged(p, true),
    });
    this.server = new KubeletServer({ address: this.o.internalIP, port: this.o.port ?? 10250, token: this.o.serverToken, clientCA: this.o.clientCA, findLog: (ns, pod, c, previous) => this.findLog(ns, pod, c, previous), streaming: new CriStreamingRuntime(this.cri), statsSummary: () => this.stats.summary(), log: this.o.log });
    this.serverPort = await this.server.start();
    await this.reporter.start();
    await Promise.all([this.nodes.start(), this.pods.start()]);
    this.loadManifests();
    await this.cleanUpOrphans();
    if (this.o.podManifestPath) {
      // The kubelet's file source looks every 20 s; a shorter look makes edits show sooner.
      this.manifestTimer = setInterval(() => this.loadManifests(), 5_000);
      this.manifestTimer.unref();
    }
    for (let i = 0; i < 4; i++) void this.worker();
    this.relistTimer = setInterval(() => void this.relist().catch((e: unknown) => this.o.log.debug('relist failed', { error: String(e) })), 1000);
    this.relistTimer.unref();
    // A periodic resync of every pod, as the kubelet's (its sync-frequency is 1 min): volumes
    // follow their ConfigMaps and Secrets. Containers that change are seen sooner, by the relist.
    this.resyncTimer = setInterval(() => {
      for (const k of this.known.keys()) this.queue.add(k);
    }, RESYNC_MS);
    this.resyncTimer.unref();
    // Housekeeping samples, as cAdvisor's: a scrape then finds CPU rates over the last interval.
    const housekeeping = (): void =>
      void this.stats
        .summary()
        .then((s) => (this.pressure = this.pressureTracker.observe(s.node, Date.now())))
        .catch(() => undefined);
    this.statsTimer = setInterval(housekeeping, 10_000);
    this.statsTimer.unref();
    housekeeping();
    this.o.log.info('kubelet started', { node: this.o.nodeName, runtime: `${version.runtimeName}://${version.runtimeVersion}` });
  }

  /** The pause image (built here when missing) and archives in `DATA_DIR/agent/images`. */
  private async loadImages(): Promise<void> {
    const socket = this.o.containerd.paths.socket;
    const st = await this.cri.image<{ image?: { id?: string } | null }>('ImageStatus', { image: { image: PAUSE_IMAGE } });
    if (!st.image?.id) {
      const file = join(this.o.agentDir, 'images-cache', 'pause.tar');
      mkdirSync(join(this.o.agentDir, 'images-cache'), { recursive: true });
      await buildPauseImage(PAUSE_IMAGE, file);
      await importArchive(socket, file);
    }
    const dir = join(this.o.agentDir, 'images');
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).filter((n) => /\.(tar|oci)$/.test(n))) {
      const names = await importArchive(socket, join(dir, f));
      this.o.log.info('imported image archive', { file: f, images: names });
    }
  }

  private nodeChanged(n: ApiObject): void {
    const cidr = (n['spec'] as { podCIDR?: string } | undefined)?.podCIDR;
    if (!cidr || cidr === this.cniWritten) return;
    writeCniConfig(this.o.containerd.paths.cniConfDir, cidr, join(this.o.agentDir, 'cni', 'ipam'), this.o.bridge);
    const gateway = ensureBridge(this.o.bridge ?? CNI_BRIDGE, cidr);
    this.cniWritten = cidr;
    this.resolvePodNetwork({ podCIDR: cidr, gateway });
    this.o.log.info('pod network configured', { podCIDR: cidr });
    // Pods waiting for the network get another go.
    for (const k of this.known.keys()) this.queue.add(k);
  }

  /** Reads the manifest folder; new, changed and removed static pods get synced. */
  private loadManifests(): void {
    if (!this.o.podManifestPath) return;
    const { pods, errors } = readManifests(this.o.podManifestPath, this.o.nodeName, new Date(), this.staticPods);
    const text = errors.join('; ');
    if (text && text !== this.manifestErrors) this.o.log.warn('static pod manifests skipped', { errors });
    this.manifestErrors = text;
    const before = this.staticPods;
    this.staticPods = pods;
    for (const [key, pod] of pods) {
      if (before.get(key)?.metadata?.uid === pod.metadata?.uid) continue;
      const old = before.get(key);
      // A changed manifest is a new pod (new UID): the old one is stopped first.
      if (old) void this.sync.kill(old, old.spec?.terminationGracePeriodSeconds ?? 30, true).catch(() => undefined);
      this.known.set(key, pod);
      this.queue.add(key);
    }
    for (const [key, pod] of before) {
      if (pods.has(key)) continue;
      this.known.set(key, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } });
      this.queue.add(key);
    }
  }

  /** The mirror pod of a static pod: created when missing, replaced when stale or deleted. */
  private async syncMirror(key: string, pod: Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    let mirror = this.pods.getByKey(key) as Pod | undefined;
    if (mirror && (!isMirrorPod(mirror) || mirror.metadata?.annotations?.[staticAnnotations.mirror] !== pod.metadata?.uid || mirror.metadata?.deletionTimestamp)) {
      await this.o.client.delete(refs.pods, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata?.uid } }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      mirror = undefined;
    }
    if (mirror) return;
    const node = this.nodes.get('', this.o.nodeName);
    if (!node?.metadata?.uid) return;
    await this.o.client.create(refs.pods, ns, mirrorPod(pod, { name: this.o.nodeName, uid: node.metadata.uid }) as unknown as ApiObject);
  }

  private podChanged(p: ApiObject, deleted = false): void {
    const key = keyOf(p);
    // A mirror pod only shows a static pod: its changes (a deletion) bring the mirror back.
    if (isMirrorPod(p as Pod) || this.staticPods.has(key)) {
      if (this.staticPods.has(key)) this.queue.add(key);
      return;
    }
    if (deleted) this.known.set(key, { ...(p as Pod), metadata: { ...(p as Pod).metadata, deletionTimestamp: (p as Pod).metadata?.deletionTimestamp ?? new Date().toISOString() } });
    else this.known.set(key, p as Pod);
    this.queue.add(key);
  }

  private worker(): Promise<void> {
    return runWorker(this.queue, (key) => this.handle(key), (key, e) => this.o.log.debug('pod sync failed; retrying', { pod: key, error: (e as Error).message }));
  }

  private async handle(key: string): Promise<void> {
    const st = this.staticPods.get(key);
    if (st) {
      await this.sync.sync(st);
      // Without an API server the static pod still runs; its mirror comes when the server does.
      await this.syncMirror(key, st).catch((e: unknown) => {
        this.o.log.debug('mirror pod not written', { pod: key, error: (e as Error).message });
        this.requeueAt(key, Date.now() + 5_000);
      });
      return;
    }
    const pod = this.known.get(key);
    if (!pod) return;
    if (isStaticPod(pod)) {
      // Its manifest is gone: the pod stops, and its mirror goes.
      await this.sync.kill(pod, pod.spec?.terminationGracePeriodSeconds ?? 30, true);
      this.known.delete(key);
      const mirror = this.pods.getByKey(key) as Pod | undefined;
      if (mirror && isMirrorPod(mirror)) {
        await this.o.client.delete(refs.pods, mirror.metadata?.namespace ?? '', mirror.metadata?.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
      }
      return;
    }
    const live = this.pods.getByKey(key) as Pod | undefined;
    if (!live || live.metadata?.uid !== pod.metadata?.uid) {
      // Gone from the API (force-deleted): stop and remove everything.
      await this.sync.kill(pod, 0, true);
      this.known.delete(key);
      return;
    }
    if (live.metadata?.deletionTimestamp) {
      this.probes.updatePod(live);
      this.terminate(key, live);
      return;
    }
    await this.sync.sync(live);
  }

  /**
   * Stops a pod being deleted, apart from the sync workers (each pod waits out its own grace
   * period, as Kubernetes' per-pod workers do, so 100 deletions take one grace period, not 25),
   * and finishes the deletion in the API. A shorter grace period arriving meanwhile (`kubectl
   * delete --grace-period=1` on a terminating pod) starts a second, shorter kill at once.
   */
  private terminate(key: string, live: Pod): void {
    const uid = live.metadata?.uid ?? '';
    const grace = live.metadata?.deletionGracePeriodSeconds ?? live.spec?.terminationGracePeriodSeconds ?? 30;
    const current = this.terminating.get(key);
    if (current && current.uid === uid && current.grace <= grace) return;
    const done = (async () => {
      await this.sync.kill(live, grace, true);
      // The kubelet finishes a graceful deletion once the pod is stopped.
      await this.o.client.delete(refs.pods, live.metadata?.namespace ?? '', live.metadata?.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid } }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    })();
    this.terminating.set(key, { uid, grace, done });
    done
      .catch((e: unknown) => {
        this.o.log.debug('pod termination failed; retrying', { pod: key, error: (e as Error).message });
        this.requeueAt(key, Date.now() + 1000);
      })
      .finally(() => {
        if (this.terminating.get(key)?.done === done) this.terminating.delete(key);
      });
  }

  /** The kubelet's PLEG: a container that changed state in the runtime resyncs its pod. */
  private async relist(): Promise<void> {
    const res = await this.cri.runtime<{ containers: Array<{ id: string; state: string; labels: Record<string, string> }> }>('ListContainers', {});
    const now = new Map<string, string>();
    const changedUids = new Set<string>();
    for (const c of res.containers) {
      now.set(c.id, c.state);
      if (this.lastRelist.get(c.id) !== c.state) changedUids.add(c.labels[labels.podUid] ?? '');
    }
    for (const [id] of this.lastRelist) if (!now.has(id)) changedUids.add('');
    this.lastRelist = now;
    if (!changedUids.size) return;
    for (const [key, pod] of this.known) if (changedUids.has(pod.metadata?.uid ?? '')) this.queue.add(key);
  }

  /** Sandboxes of pods that no longer exist (deleted while the kubelet was down) are removed. */
  private async cleanUpOrphans(): Promise<void> {
    const live = new Set([...this.pods.list(), ...this.staticPods.values()].map((p) => p.metadata?.uid ?? ''));
    for (const uid of await this.sync.knownPodUids()) {
      if (live.has(uid)) continue;
      await this.sync.kill({ metadata: { uid, name: uid, namespace: '' } } as Pod, 0, true);
    }
  }

  /** The log file of a pod's container (its newest run, or with `previous` the one before). */
  private async findLog(namespace: string, pod: string, container: string, previous: boolean): Promise<ContainerLogTarget | undefined> {
    const runs = await containerRuns(this.cri, namespace, pod, container);
    const run = previous ? runs[1] : runs[0];
    if (!run) return undefined;
    const st = await this.cri.runtime<{ status: { logPath: string; state: string } }>('ContainerStatus', { containerId: run.id });
    if (!st.status.logPath) return undefined;
    return {
      logPath: st.status.logPath,
      running: async () => (await this.cri.runtime<{ status: { state: string } }>('ContainerStatus', { containerId: run.id }).catch(() => ({ status: { state: 'gone' } }))).status.state === 'CONTAINER_RUNNING',
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.server?.stop();
    if (this.relistTimer) clearInterval(this.relistTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.manifestTimer) clearInterval(this.manifestTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    for (const t of this.timers) clearTimeout(t);
    this.queue.shutDown();
    this.probes.stop();
    this.pods.stop();
    this.nodes.stop();
    this.reporter.stop();
    this.cri.close();
  }
}

/**
 * The kubelet's volumes: makes every volume of a pod ready under `<podsDir>/<uid>/volumes/<plugin>/<name>`
 * (hostPath and claims used in place), gives each container its CRI mounts (with the kubelet-managed
 * /etc/hosts and termination-message file), re-projects configMap/secret/downwardAPI/projected
 * contents when asked, and removes everything of a pod at the end.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Node, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { Client } from '../../client/interface.js';
import { refs } from '../../client/informer.js';
import { realClock, type Clock } from '../../machinery/clock.js';
import type { Logger } from '../../machinery/logger.js';
import type { CriMount } from '../container-config.js';
import { ConfigMapPlugin } from './config-map.js';
import { volumeMounts } from './container-mounts.js';
import { DownwardApiPlugin } from './downward-api.js';
import { EmptyDirPlugin } from './empty-dir.js';
import { hostsFileContent } from './etc-hosts.js';
import { HostPathPlugin } from './host-path.js';
import { canMount, mountPointsUnder, unmount } from './host-mounts.js';
import { fsGroupOf, ownershipManaged, setVolumeOwnership } from './volume-ownership.js';
import { PersistentVolumeClaimPlugin } from './persistent-volume-claim.js';
import { ProjectedPlugin } from './projected.js';
import { SecretPlugin } from './secret.js';
import { TokenCache } from './service-account-token.js';
import { VolumeError } from './volume-error.js';
import { podUid, type ReadyVolume, type VolumeHost, type VolumePlugin } from './volume-plugin.js';

export type { CriMount } from '../container-config.js';

export interface VolumeManagerOptions {
  client: Client;
  /** DATA_DIR/agent/pods */
  podsDir: string;
  nodeName: string;
  log: Logger;
  clock?: Clock;
  /** For the FQDN of pods with a subdomain in /etc/hosts (default `cluster.local`). */
  clusterDomain?: string;
  /** Replaces the built-in plugins (tests). */
  plugins?: VolumePlugin[];
}

/** The plugins of this kubelet, in the order they are asked. */
export function defaultVolumePlugins(): VolumePlugin[] {
  return [new EmptyDirPlugin(), new HostPathPlugin(), new ConfigMapPlugin(), new SecretPlugin(), new DownwardApiPlugin(), new ProjectedPlugin(), new PersistentVolumeClaimPlugin()];
}

const allocatableTtlMs = 60_000;

export class VolumeManager {
  private readonly plugins: VolumePlugin[];
  private readonly host: VolumeHost;
  private readonly clock: Clock;
  /** Volumes ready on the host, by pod uid then volume name. */
  private readonly ready = new Map<string, Map<string, ReadyVolume>>();
  /** One operation at a time per pod (setUp, refresh and tearDown all write its directory). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private allocatable: { at: number; value: Record<string, string> } | undefined;
  private readonly selinuxEnabled = existsSync('/sys/fs/selinux/enforce');

  constructor(private readonly o: VolumeManagerOptions) {
    this.clock = o.clock ?? realClock;
    this.plugins = o.plugins ?? defaultVolumePlugins();
    this.host = {
      client: o.client,
      nodeName: o.nodeName,
      log: o.log,
      clock: this.clock,
      volumeDir: (uid, plugin, name) => join(this.podDir(uid), 'volumes', plugin, name),
      nodeAllocatable: () => this.nodeAllocatable(),
      tokens: new TokenCache(o.client, this.clock),
    };
  }

  /** `<podsDir>/<uid>`: everything the kubelet keeps for a pod. */
  podDir(uid: string): string {
    return join(this.o.podsDir, uid);
  }

  private async nodeAllocatable(): Promise<Record<string, string>> {
    const now = this.clock.now().getTime();
    if (this.allocatable && now - this.allocatable.at < allocatableTtlMs) return this.allocatable.value;
    try {
      const node = (await this.o.client.get(refs.nodes, '', this.o.nodeName)) as Node;
      this.allocatable = { at: now, value: node.status?.allocatable ?? {} };
      return this.allocatable.value;
    } catch (e) {
      this.o.log.debug('node allocatable unavailable', { error: (e as Error).message });
      return this.allocatable?.value ?? {};
    }
  }

  private exclusive<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(uid, settled);
    void settled.then(() => {
      if (this.locks.get(uid) === settled) this.locks.delete(uid);
    });
    return next;
  }

  private pluginFor(volume: NonNullable<NonNullable<Pod['spec']>['volumes']>[number]): VolumePlugin | undefined {
    return this.plugins.find((p) => p.handles(volume));
  }

  /**
   * Makes every volume of the pod ready. Volumes already ready are left alone (see `refresh`);
   * every volume is tried, and the first failure is thrown as a VolumeError whose message is
   * the FailedMount event's text.
   */
  setUp(pod: Pod): Promise<void> {
    const uid = podUid(pod);
    return this.exclusive(uid, async () => {
      let ready = this.ready.get(uid);
      if (!ready) {
        ready = new Map();
        this.ready.set(uid, ready);
      }
      let first: VolumeError | undefined;
      for (const volume of pod.spec?.volumes ?? []) {
        if (ready.has(volume.name)) continue;
        const plugin = this.pluginFor(volume);
        try {
          if (!plugin) throw new Error('volume type is not supported by this kubelet');
          ready.set(volume.name, await this.setUpVolume(plugin, pod, volume));
        } catch (e) {
          const err = VolumeError.setUpFailed(volume.name, e);
          this.o.log.debug('volume set-up failed', { pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, volume: volume.name, error: err.message });
          first ??= err;
        }
      }
      if (first) throw first;
    });
  }

  /** One volume's set-up, then the pod's fsGroup applied to it where the kubelet manages ownership. */
  private async setUpVolume(plugin: VolumePlugin, pod: Pod, volume: Volume): Promise<ReadyVolume> {
    const ready = await plugin.setUp(pod, volume, this.host);
    const gid = fsGroupOf(pod);
    if (gid !== undefined && ownershipManaged(volume) && canMount()) await setVolumeOwnership(ready.hostPath, gid, ready.readOnly);
    return ready;
  }

  /**
   * The CRI mounts of one container: its volumeMounts, then /etc/hosts (when the pod has IPs and
   * the container does not mount its own) and the termination-message file (a new one per call,
   * that is per container instance, as the kubelet does). Throws ContainerConfigError for a mount
   * that cannot be made (unknown volume, bad subPath).
   */
  async mountsFor(pod: Pod, container: Container, opts: { podIPs: string[]; env?: Record<string, string> }): Promise<CriMount[]> {
    const uid = podUid(pod);
    const ready = this.ready.get(uid);
    const names = (pod.spec?.volumes ?? []).map((v) => v.name);
    if (!ready || names.some((n) => !ready.has(n))) await this.setUp(pod);
    const mounts = await volumeMounts(container, this.ready.get(uid) ?? new Map(), opts.env ?? {}, this.selinuxEnabled);
    const podDir = this.podDir(uid);
    await mkdir(podDir, { recursive: true });
    const mountedAt = new Set(mounts.map((m) => m.containerPath));
    if (opts.podIPs.length > 0 && !mountedAt.has('/etc/hosts')) {
      const hostsPath = join(podDir, 'etc-hosts');
      // written in place, never renamed: running containers have this very inode bind-mounted
      await writeFile(hostsPath, await hostsFileContent(pod, opts.podIPs, this.o.clusterDomain ?? 'cluster.local'), { mode: 0o644 });
      await chmod(hostsPath, 0o644);
      mounts.push({ containerPath: '/etc/hosts', hostPath: hostsPath, readonly: false, propagation: 'PROPAGATION_PRIVATE', selinuxRelabel: this.selinuxEnabled });
    }
    const terminationPath = container.terminationMessagePath ?? '/dev/termination-log';
    if (terminationPath && !mountedAt.has(terminationPath)) {
      const dir = join(podDir, 'containers', container.name);
      await mkdir(dir, { recursive: true });
      const file = join(dir, randomBytes(4).toString('hex'));
      await writeFile(file, '');
      // the container may run as any user and must be able to write its message
      await chmod(file, 0o666);
      mounts.push({ containerPath: terminationPath, hostPath: file, readonly: false, propagation: 'PROPAGATION_PRIVATE', selinuxRelabel: this.selinuxEnabled });
    }
    return mounts;
  }

  /**
   * Re-projects the pod's configMap, secret, downwardAPI and projected volumes (only files whose
   * contents changed cause a swap; a service-account token is renewed at 80% of its life). A
   * source that has become unavailable leaves the volume as it was and is logged.
   */
  refresh(pod: Pod): Promise<void> {
    const uid = podUid(pod);
    return this.exclusive(uid, async () => {
      const ready = this.ready.get(uid);
      if (!ready) return;
      for (const volume of pod.spec?.volumes ?? []) {
        if (!ready.get(volume.name)?.projected) continue;
        const plugin = this.pluginFor(volume);
        if (!plugin) continue;
        try {
          ready.set(volume.name, await this.setUpVolume(plugin, pod, volume));
        } catch (e) {
          this.o.log.warn('volume refresh failed', { pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, volume: volume.name, error: (e as Error).message });
        }
      }
    });
  }

  /** Uids of the pods that have a directory under podsDir (to tear down orphans after a restart). */
  async podUidsOnDisk(): Promise<string[]> {
    try {
      return (await readdir(this.o.podsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  }

  /**
   * Unmounts what the pod's volumes mounted (tmpfs of memory-backed volumes) and removes the pod's
   * directory. Refuses to delete anything while a mount below it remains (it could be host data).
   */
  tearDown(uid: string): Promise<void> {
    return this.exclusive(uid, async () => {
      this.ready.delete(uid);
      this.host.tokens.forgetPod(uid);
      const dir = this.podDir(uid);
      if (!uid || !(await stat(dir).then(() => true, () => false))) return;
      for (const point of await mountPointsUnder(dir)) {
        try {
          await unmount(point);
        } catch (e) {
          this.o.log.warn('unmount failed', { path: point, error: (e as Error).message });
        }
      }
      const left = await mountPointsUnder(dir);
      if (left.length) throw new Error(`cannot remove ${dir}: still mounted: ${left.join(', ')}`);
      await rm(dir, { recursive: true, force: true });
    });
  }
}

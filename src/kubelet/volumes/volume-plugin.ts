/**
 * What a volume plugin is: it recognises its kind of pod volume and makes it ready on the host.
 * One file per plugin (empty-dir.ts, host-path.ts …); the VolumeManager holds them in a list.
 */
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { Client } from '../../client/interface.js';
import type { Clock } from '../../machinery/clock.js';
import type { Logger } from '../../machinery/logger.js';
import type { TokenCache } from './service-account-token.js';

/** The kubelet's services a plugin may use. */
export interface VolumeHost {
  client: Client;
  nodeName: string;
  log: Logger;
  clock: Clock;
  /** `<podsDir>/<uid>/volumes/<plugin>/<name>`, the kubelet's layout. */
  volumeDir(podUid: string, plugin: string, name: string): string;
  /** The node's allocatable resources (for downward API limits a container leaves unset). */
  nodeAllocatable(): Promise<Record<string, string>>;
  tokens: TokenCache;
}

/** A volume ready on the host. */
export interface ReadyVolume {
  /** Host path that containers mount (a directory, or a file for some hostPath volumes). */
  hostPath: string;
  /** The plugin forces read-only mounts (configMap, secret, downwardAPI, projected, read-only claims). */
  readOnly: boolean;
  /** The plugin's volumes may be SELinux-relabelled (kubelet-managed directories; not host paths). */
  selinuxRelabel: boolean;
  /** Its contents are projected from API objects and rewritten by `refresh`. */
  projected: boolean;
}

export interface VolumePlugin {
  /** The directory name under `volumes/`, e.g. `kubernetes.io~configmap`. */
  readonly name: string;
  handles(volume: Volume): boolean;
  /**
   * Makes the volume ready; idempotent (a second call re-projects contents that changed and
   * touches nothing else). Throws a plain Error with the plugin's reason (the manager words the
   * FailedMount message) or a ready-worded VolumeError.
   */
  setUp(pod: Pod, volume: Volume, host: VolumeHost): Promise<ReadyVolume>;
}

/** `metadata.uid` of a pod (the key of everything on disk). */
export function podUid(pod: Pod): string {
  return pod.metadata?.uid ?? '';
}

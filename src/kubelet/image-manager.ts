/**
 * Images for containers, as the kubelet's image manager gets them: `imagePullPolicy` decides
 * whether to pull (Always; IfNotPresent when missing; Never: only what is on the node), and
 * failed pulls back off (10 s doubling to 5 min) with ErrImagePull / ImagePullBackOff.
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import type { CriClient } from './cri/cri-client.js';
import { CriError } from './cri/cri-client.js';
import { normalizeImage } from './pod-status.js';

/** Why a container cannot start for lack of its image: the waiting reason and message. */
export class ImageError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** The pull policy Kubernetes defaults to: Always for `:latest` or no tag, else IfNotPresent. */
export function pullPolicyOf(container: Container): string {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export interface ImageEvents {
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

interface Backoff {
  failures: number;
  until: number;
  message: string;
}

export class ImageManager {
  private readonly backoff = new Map<string, Backoff>();

  constructor(
    private readonly cri: CriClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** The image's reference on the node when present (`sha256:…`), else undefined. */
  async present(image: string): Promise<string | undefined> {
    const st = await this.cri.image<{ image?: { id?: string } | null }>('ImageStatus', { image: { image } });
    return st.image?.id || undefined;
  }

  /**
   * Makes sure the container's image is on the node, pulling as its policy says; answers the
   * image reference to create the container with. Throws ImageError with the waiting reason.
   * `backoffKey` identifies the pod's container, whose failed pulls back off together.
   */
  async ensure(container: Container, backoffKey: string, events: ImageEvents): Promise<string> {
    const image = container.image ?? '';
    if (!image.trim()) throw new ImageError('InvalidImageName', 'Failed to apply default image tag "": couldn\'t parse image name "": invalid reference format');
    const policy = pullPolicyOf(container);
    const have = await this.present(image);
    if (policy === 'Never') {
      if (have) return have;
      const message = `Container image "${image}" is not present with pull policy of Never`;
      events.event('Warning', 'ErrImageNeverPull', message);
      throw new ImageError('ErrImageNeverPull', message);
    }
    if (have && policy === 'IfNotPresent') {
      events.event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return have;
    }
    const b = this.backoff.get(backoffKey);
    if (b && this.now() < b.until) {
      events.event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      throw new ImageError('ImagePullBackOff', `Back-off pulling image "${image}": ${b.message}`);
    }
    events.event('Normal', 'Pulling', `Pulling image "${image}"`);
    const started = this.now();
    try {
      const res = await this.cri.image<{ imageRef: string }>('PullImage', { image: { image: normalizeImage(image) } });
      this.backoff.delete(backoffKey);
      events.event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${((this.now() - started) / 1000).toFixed(3)}s`);
      return res.imageRef;
    } catch (e) {
      const detail = e instanceof CriError ? e.details : (e as Error).message;
      const failures = (b?.failures ?? 0) + 1;
      const message = `failed to pull and unpack image "${normalizeImage(image)}": ${detail}`;
      this.backoff.set(backoffKey, { failures, until: this.now() + Math.min(300_000, 10_000 * 2 ** (failures - 1)), message });
      events.event('Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      events.event('Warning', 'Failed', 'Error: ErrImagePull');
      throw new ImageError('ErrImagePull', message);
    }
  }

  /** When the container's pull back-off ends (to requeue the pod), if backing off. */
  backoffUntil(backoffKey: string): number | undefined {
    return this.backoff.get(backoffKey)?.until;
  }

  forget(prefix: string): void {
    for (const k of this.backoff.keys()) if (k.startsWith(prefix)) this.backoff.delete(k);
  }
}

/**
 * Why a volume could not be made ready. `message` is the kubelet's event text (`FailedMount`), e.g.
 * `MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found`; the pod worker
 * records it as a Warning event and retries.
 */
export class VolumeError extends Error {
  constructor(
    message: string,
    /** The pod volume concerned. */
    readonly volume: string,
  ) {
    super(message);
    this.name = 'VolumeError';
  }

  /** The kubelet's wording for a plugin's SetUp failure. */
  static setUpFailed(volume: string, cause: unknown): VolumeError {
    if (cause instanceof VolumeError) return cause;
    return new VolumeError(`MountVolume.SetUp failed for volume "${volume}" : ${cause instanceof Error ? cause.message : String(cause)}`, volume);
  }
}


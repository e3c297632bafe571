/**
 * Runs a piece of work one at a time, coalescing requests: a request while it runs makes it run
 * once more afterwards, however many came. For syncs that always bring the whole state in line
 * (iptables rules, routes), where running for each change would only repeat work. A run that
 * fails is reported to `onError` and requested again `retryMs` later; after `stop()` nothing
 * runs any more.
 */
export interface CoalescedRunOptions {
  retryMs: number;
  onError(err: Error): void;
}

export class CoalescedRun {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly o: CoalescedRunOptions,
  ) {}

  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.work();
        } catch (e) {
          this.o.onError(e as Error);
          setTimeout(() => this.request(), this.o.retryMs).unref();
        }
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
  }

  /** Resolves once no run is in progress (at once if none is). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more runs (a retry that is due included); resolves when the one in progress ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }
}

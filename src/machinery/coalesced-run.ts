/**
 * Runs a piece of work one at a time, coalescing requests: a request while it runs makes it run
 * once more afterwards, however many came. For syncs that always bring the whole state in line
 * (iptables rules, routes), where running for each change would only repeat work.
 */
export class CoalescedRun {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly work: () => Promise<void>) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.work();
      } while (this.again);
      this.running = undefined;
    })();
  }

  /** Resolves once no run is in progress (at once if none is). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}

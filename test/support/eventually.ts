/**
 * Polls `probe` until it returns a value (anything but undefined or false), or fails after
 * `timeoutMs` with what it waited for and the probe's last error. `what` may be a function, so
 * the message can show the state at the time of failure (e.g. `kubectl get pods`).
 */
export async function eventually<T>(
  what: string | (() => string | Promise<string>),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  intervalMs = timeoutMs > 10_000 ? 250 : 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const described = typeof what === 'string' ? what : await Promise.resolve(what()).catch((e: unknown) => `(and describing it failed: ${String(e)})`);
      throw new Error(`timed out waiting for ${described}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

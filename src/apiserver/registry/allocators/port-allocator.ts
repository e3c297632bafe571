/**
 * NodePort allocation (Kubernetes' `portallocator`): an in-memory bitmap over the node-port
 * range, seeded from the stored Services at start. Allocation is synchronous, so concurrent
 * creates in this process cannot both get the same port.
 */
import { AllocationBitmap } from './allocation-bitmap.js';

export type AllocationErrorKind = 'full' | 'allocated' | 'not-in-range';

/** A refused allocation; `message` is Kubernetes' wording (`provided port is already allocated`). */
export class AllocationError extends Error {
  constructor(
    readonly kind: AllocationErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'AllocationError';
  }
}

export class PortAllocator {
  private readonly bitmap: AllocationBitmap;
  readonly base: number;
  readonly size: number;

  /** `range` is inclusive, e.g. [30000, 32767]. */
  constructor(
    readonly range: readonly [number, number],
    random: () => number = Math.random,
  ) {
    const [lo, hi] = range;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || hi < lo) throw new Error(`invalid port range ${lo}-${hi}`);
    this.base = lo;
    this.size = hi - lo + 1;
    this.bitmap = new AllocationBitmap(this.size, random);
  }

  /** `30000-32767`, as Kubernetes prints a PortRange. */
  rangeText(): string {
    return `${this.range[0]}-${this.range[1]}`;
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range[0] && port <= this.range[1];
  }

  has(port: number): boolean {
    return this.contains(port) && this.bitmap.has(port - this.base);
  }

  /** Reserves a specific port; throws AllocationError when out of range or taken. */
  allocate(port: number): void {
    if (!this.contains(port)) {
      throw new AllocationError('not-in-range', `provided port is not in the valid range. The range of valid ports is ${this.rangeText()}`);
    }
    if (!this.bitmap.allocate(port - this.base)) throw new AllocationError('allocated', 'provided port is already allocated');
  }

  /**
   * Reserves any free port. Like Kubernetes, it prefers the upper band of the range and falls
   * back to the lower band (kept for ports users ask for by number) only when the upper is full.
   */
  allocateNext(): number {
    const offset = Math.min(Math.max(16, Math.floor(this.size / 32)), 128);
    const band = this.size > offset * 2 ? offset : 0;
    const picked = this.bitmap.allocateIn(band, this.size) ?? this.bitmap.allocateIn(0, band);
    if (picked === undefined) throw new AllocationError('full', 'range is full');
    return picked + this.base;
  }

  release(port: number): void {
    if (this.contains(port)) this.bitmap.release(port - this.base);
  }

  used(): number {
    return this.bitmap.used();
  }

  free(): number {
    return this.size - this.bitmap.used();
  }
}

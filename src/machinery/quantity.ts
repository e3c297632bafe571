/**
 * `resource.Quantity`: exact decimal amounts with SI (`m`, `k`, `M`…), binary (`Ki`, `Mi`…) or
 * exponent (`e3`) suffixes, serialised in the canonical form Kubernetes writes back
 * (`1000m` → `1`, `0.5Gi` → `512Mi`, `1.5` → `1500m`). Values are BigInt mantissa × 10^scale,
 * so nothing drifts.
 */

/** How a quantity prints; it follows the suffix it was written with. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** Kubernetes' parse error messages (`resource.ErrFormatWrong` etc.). */
export const quantityErrFormatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const quantityErrNumeric = 'unable to parse numeric part of quantity';
export const quantityErrSuffix = "unable to parse quantity's suffix";

/** Thrown for text that is not a quantity; `message` is Kubernetes' wording. */
export class QuantityParseError extends Error {
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
    this.name = 'QuantityParseError';
  }
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExp = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByExp = new Map<number, string>([[0, ''], ...Object.entries(binarySuffixes).map(([s, e]) => [e, s] as [number, string])]);

const maxInt64 = 9223372036854775807n;
const nanoScale = -9;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** Splits text the way `parseQuantityString` does. */
function splitQuantity(str: string): { positive: boolean; num: string; denom: string; suffix: string } {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') {
    pos++;
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  pos = i;
  if (num.length === 0) num = '0';
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos]!)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityParseError(quantityErrFormatWrong, str);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string, input: string): { base: 2 | 10; exponent: number; format: QuantityFormat } {
  const dec = decimalSuffixes[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = binarySuffixes[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    const exp = Number(suffix.slice(1));
    if (Number.isSafeInteger(exp) && Math.abs(exp) <= 2147483647) return { base: 10, exponent: exp, format: 'DecimalExponent' };
  }
  throw new QuantityParseError(quantityErrSuffix, input);
}

/** An exact amount with a print format. Immutable. */
export class Quantity {
  /** value = mantissa × 10^scale, with scale ≥ -9 (Kubernetes keeps nano precision). */
  private constructor(
    readonly mantissa: bigint,
    readonly scale: number,
    readonly format: QuantityFormat,
  ) {}

  /** Parses `100m`, `1.5`, `2Gi`, `1e3`; JSON numbers are accepted too. Throws `QuantityParseError`. */
  static parse(input: string | number): Quantity {
    // JSON numbers print as `0.5` or `1e+21`, both valid quantity text.
    const str = typeof input === 'number' ? String(input) : input;
    if (str.length === 0) throw new QuantityParseError(quantityErrFormatWrong, str);
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI');
    const { positive, num, denom, suffix } = splitQuantity(str);
    const { base, exponent, format: parsedFormat } = interpretSuffix(suffix, str);
    let format = parsedFormat;
    let mantissa = BigInt(num + denom);
    let scale = -denom.length;
    if (base === 10) scale += exponent;
    else mantissa *= 1n << BigInt(exponent);
    // Amounts below one nano unit round up (away from zero): asking for some gets some.
    if (scale < nanoScale && mantissa !== 0n) {
      const div = pow10(nanoScale - scale);
      const q = mantissa / div;
      mantissa = mantissa % div === 0n ? q : q + 1n;
      scale = nanoScale;
    }
    const q = new Quantity(mantissa, scale, format);
    if (format === 'BinarySI') {
      if (q.cmpRaw(maxInt64, 0) > 0) return new Quantity(positive ? maxInt64 : -maxInt64, 0, format);
      if (q.cmpRaw(1n, 0) < 0 && mantissa !== 0n) format = 'DecimalSI';
    }
    return new Quantity(positive ? mantissa : -mantissa, scale, format);
  }

  /** Like `parse`, but returns undefined instead of throwing. */
  static tryParse(input: string | number): Quantity | undefined {
    try {
      return Quantity.parse(input);
    } catch (e) {
      if (e instanceof QuantityParseError) return undefined;
      throw e;
    }
  }

  /** `value × 10^scale` in the given format (e.g. `fromScaled(1500n, -3)` is 1.5). */
  static fromScaled(value: bigint, scale: number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(value, scale, format);
  }

  /** A whole number, e.g. a byte count in BinarySI. */
  static fromInt(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), 0, format);
  }

  /** Thousandths, e.g. CPU millicores. */
  static fromMilli(milli: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli), -3, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, 0, format);
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.mantissa === 0n ? 0 : this.mantissa < 0n ? -1 : 1;
  }

  private cmpRaw(m: bigint, s: number): number {
    const scale = Math.min(this.scale, s);
    const a = this.mantissa * pow10(this.scale - scale);
    const b = m * pow10(s - scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.cmpRaw(other.mantissa, other.scale) as -1 | 0 | 1;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** Exact sum; keeps this quantity's format unless this is zero (then `other`'s), as Kubernetes does. */
  add(other: Quantity): Quantity {
    const scale = Math.min(this.scale, other.scale);
    const m = this.mantissa * pow10(this.scale - scale) + other.mantissa * pow10(other.scale - scale);
    return new Quantity(m, scale, this.isZero() ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return this.add(other.neg());
  }

  neg(): Quantity {
    return new Quantity(-this.mantissa, this.scale, this.format);
  }

  /** Value scaled to 10^scale, rounded away from zero (`ScaledValue`). */
  scaledValue(scale: number): bigint {
    if (this.scale >= scale) return this.mantissa * pow10(this.scale - scale);
    const div = pow10(scale - this.scale);
    const q = this.mantissa / div;
    if (this.mantissa % div === 0n) return q;
    return this.mantissa > 0n ? q + 1n : q - 1n;
  }

  /** Whole units, rounded away from zero (`Value()`). */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** Thousandths, rounded away from zero (`MilliValue()`). */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** Approximate float value, for display and ratios only. */
  toNumber(): number {
    return Number(this.mantissa) * 10 ** this.scale;
  }

  /** The canonical string Kubernetes serialises. */
  toString(): string {
    if (this.mantissa === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      // Small or fractional binary amounts print in decimal to avoid rounding.
      const integral = this.scale >= 0 || this.mantissa % pow10(-this.scale) === 0n;
      if (this.cmpRaw(-1024n, 0) > 0 && this.cmpRaw(1024n, 0) < 0) format = 'DecimalSI';
      else if (!integral) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let n = this.value();
      let exp = 0;
      while (exp < 60 && n % 1024n === 0n) {
        n /= 1024n;
        exp += 10;
      }
      return `${n}${binarySuffixByExp.get(exp) ?? ''}`;
    }
    let m = this.mantissa;
    let e = this.scale;
    while (m % 10n === 0n) {
      m /= 10n;
      e++;
    }
    const r = ((e % 3) + 3) % 3;
    if (r !== 0) {
      m *= pow10(r);
      e -= r;
    }
    if (format === 'DecimalExponent') return e === 0 ? `${m}` : `${m}e${e}`;
    if (e > 18) {
      m *= pow10(e - 18);
      e = 18;
    }
    return `${m}${decimalSuffixByExp.get(e) ?? ''}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Parses a quantity (string or JSON number); throws `QuantityParseError`. */
export function parseQuantity(input: string | number): Quantity {
  return Quantity.parse(input);
}

/** The canonical form of a quantity string, e.g. `canonicalQuantity('0.5Gi') === '512Mi'`. */
export function canonicalQuantity(input: string | number): string {
  return Quantity.parse(input).toString();
}

/** Compares two quantities given as text or numbers. */
export function compareQuantities(a: string | number | Quantity, b: string | number | Quantity): -1 | 0 | 1 {
  const qa = a instanceof Quantity ? a : Quantity.parse(a);
  const qb = b instanceof Quantity ? b : Quantity.parse(b);
  return qa.cmp(qb);
}

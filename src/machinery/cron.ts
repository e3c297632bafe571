/**
 * Cron schedules as CronJobs use them (Kubernetes parses them with robfig/cron's standard
 * parser): five fields `minute hour day-of-month month day-of-week`, ranges, lists, steps,
 * month and weekday names, `*`/`?`, the descriptors `@yearly @annually @monthly @weekly @daily
 * @midnight @hourly`, `@every <duration>`, and an optional `TZ=`/`CRON_TZ=` prefix. Parse errors
 * carry robfig's wording, which Kubernetes shows in `spec.schedule: Invalid value: ...`.
 */

/** A parsed schedule. */
export interface CronSchedule {
  /** The zone of a `TZ=`/`CRON_TZ=` prefix, if the spec had one. */
  readonly timeZone?: string;
  /**
   * The first activation strictly after `after`, in `timeZone` (the argument, else the spec's
   * prefix, else UTC); undefined when none exists within five years (e.g. `0 0 30 2 *`).
   */
  next(after: Date, timeZone?: string): Date | undefined;
}

/** A spec that does not parse; `message` is robfig/cron's. */
export class CronParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronParseError';
  }
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const monthNames: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const dowNames: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const minuteB: Bounds = { min: 0, max: 59 };
const hourB: Bounds = { min: 0, max: 23 };
const domB: Bounds = { min: 1, max: 31 };
const monthB: Bounds = { min: 1, max: 12, names: monthNames };
const dowB: Bounds = { min: 0, max: 6, names: dowNames };

/** One field: the allowed values, and whether it was written as `*`/`?` (matters for day matching). */
interface FieldSet {
  values: Set<number>;
  star: boolean;
}

const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Go's `strconv.Atoi` for a cron number, with robfig's error wording. */
function parseIntStrict(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseValue(expr: string, b: Bounds): number {
  const named = b.names?.[expr.toLowerCase()];
  return named !== undefined ? named : parseIntStrict(expr);
}

function parseRange(expr: string, b: Bounds, out: FieldSet): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseValue(lowAndHigh[0]!, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseValue(lowAndHigh[1]!, b);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseIntStrict(rangeAndStep[1]!);
    // `N/step` means `N-max/step`.
    if (singleDigit && !star) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) out.values.add(v);
  if (star) out.star = true;
}

function parseField(field: string, b: Bounds): FieldSet {
  const out: FieldSet = { values: new Set(), star: false };
  for (const part of field.split(',')) parseRange(part, b, out);
  return out;
}

/** Go's `time.ParseDuration` for `@every` (units ns, us, µs, ms, s, m, h). */
function parseGoDuration(s: string): number {
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const re = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)/;
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (!rest) throw new CronParseError(`failed to parse duration ${s}: time: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  while (rest.length) {
    const m = re.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') throw new CronParseError(`failed to parse duration ${s}: time: invalid duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * unitMs[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

// ---- time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` names an IANA zone this runtime knows (`UTC` included). */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  dow: number; // 0 = Sunday
}

const weekdayIndex: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function wallClock(ms: number, tz: string): Wall {
  if (tz === 'UTC') {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), dow: d.getUTCDay() };
  }
  const parts: Record<string, string> = {};
  for (const p of formatterFor(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) % 24, minute: Number(parts.minute), dow: weekdayIndex[parts.weekday ?? 'Sun'] ?? 0 };
}

/** The zone's offset (ms east of UTC) at instant `ms`. */
function offsetAt(ms: number, tz: string): number {
  if (tz === 'UTC') return 0;
  const w = wallClock(ms, tz);
  const asUTC = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUTC - Math.floor(ms / 60000) * 60000;
}

/** The instant of a wall-clock time in `tz`; a time skipped by DST maps to just after the gap. */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, tz: string): number {
  const naive = Date.UTC(year, month - 1, day, hour, minute);
  let guess = naive - offsetAt(naive, tz);
  guess = naive - offsetAt(guess, tz);
  return guess;
}

const minuteMs = 60000;

class SpecSchedule implements CronSchedule {
  constructor(
    private readonly minute: FieldSet,
    private readonly hour: FieldSet,
    private readonly dom: FieldSet,
    private readonly month: FieldSet,
    private readonly dow: FieldSet,
    readonly timeZone?: string,
  ) {}

  private dayMatches(w: Wall): boolean {
    const domMatch = this.dom.values.has(w.day);
    const dowMatch = this.dow.values.has(w.dow);
    // robfig: when either day field is `*`, both must match; otherwise either may.
    if (this.dom.star || this.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(after: Date, timeZone?: string): Date | undefined {
    const tz = timeZone ?? this.timeZone ?? 'UTC';
    // The next whole minute strictly after `after` (seconds are always 0 in standard specs).
    let t = Math.floor(after.getTime() / minuteMs) * minuteMs + minuteMs;
    const limit = wallClock(t, tz).year + 5;
    for (;;) {
      const w = wallClock(t, tz);
      if (w.year > limit) return undefined;
      if (!this.month.values.has(w.month)) {
        const nextMonth = w.month === 12 ? { y: w.year + 1, m: 1 } : { y: w.year, m: w.month + 1 };
        t = Math.max(instantOf(nextMonth.y, nextMonth.m, 1, 0, 0, tz), t + minuteMs);
        continue;
      }
      if (!this.dayMatches(w)) {
        const d = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
        // Always move forward, even when midnight falls in a DST gap.
        t = Math.max(instantOf(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, 0, tz), t + minuteMs);
        continue;
      }
      if (!this.hour.values.has(w.hour)) {
        t += (60 - w.minute) * minuteMs;
        continue;
      }
      if (!this.minute.values.has(w.minute)) {
        t += minuteMs;
        continue;
      }
      return new Date(t);
    }
  }
}

class EverySchedule implements CronSchedule {
  readonly timeZone?: string;
  constructor(private readonly delayMs: number) {}

  next(after: Date): Date {
    // robfig rounds the delay down to whole seconds (minimum one) and the result to a second.
    const delay = Math.max(1000, Math.floor(this.delayMs / 1000) * 1000);
    return new Date(Math.floor(after.getTime() / 1000) * 1000 + delay);
  }
}

/** Parses a schedule as `cron.ParseStandard` does; throws `CronParseError`. */
export function parseCron(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let rest = spec;
  let tz: string | undefined;
  if (rest.startsWith('TZ=') || rest.startsWith('CRON_TZ=')) {
    const i = rest.indexOf(' ');
    const eq = rest.indexOf('=');
    tz = rest.slice(eq + 1, i < 0 ? undefined : i);
    if (!isValidTimeZone(tz)) throw new CronParseError(`provided bad location ${tz}: unknown time zone ${tz}`);
    rest = i < 0 ? '' : rest.slice(i).trim();
  }
  if (rest.startsWith('@')) {
    if (rest.startsWith('@every ')) return new EverySchedule(parseGoDuration(rest.slice('@every '.length)));
    const expanded = descriptors[rest];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${rest}`);
    rest = expanded;
  }
  const fields = rest.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [mi, h, dom, mo, dow] = fields as [string, string, string, string, string];
  return new SpecSchedule(parseField(mi, minuteB), parseField(h, hourB), parseField(dom, domB), parseField(mo, monthB), parseField(dow, dowB), tz);
}

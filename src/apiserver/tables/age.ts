/**
 * Human-readable durations exactly as Kubernetes prints them (apimachinery `util/duration`),
 * and the "time since" helpers the printers use for AGE-like cells.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Kubernetes' `duration.HumanDuration`: about 2–3 significant figures (`90s`, `2m30s`, `15m`,
 * `3h5m`, `20h`, `3d4h`, `45d`, `2y10d`, `9y`). Input is milliseconds.
 */
export function humanDuration(ms: number): string {
  // Go truncates toward zero when converting durations to whole units.
  const seconds = Math.trunc(ms / SECOND);
  // Up to one second in the future is clock skew, printed as "0s".
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.trunc(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.trunc(hours / 24 / 365);
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Kubernetes' `duration.ShortHumanDuration`: one unit only (`45s`, `3m`, `5h`, `12d`, `2y`). */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Milliseconds since the epoch for an RFC 3339 timestamp; undefined when absent or unparsable. */
export function parseTimestamp(ts: unknown): number | undefined {
  if (typeof ts !== 'string' || ts === '') return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** `translateTimestampSince`: the age of a timestamp, or `<unknown>` when it is unset. */
export function translateTimestampSince(ts: unknown, now: Date): string {
  const t = parseTimestamp(ts);
  if (t === undefined) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** `translateTimestampUntil`: how long until a timestamp, or `<unknown>` when it is unset. */
export function translateTimestampUntil(ts: unknown, now: Date): string {
  const t = parseTimestamp(ts);
  if (t === undefined) return '<unknown>';
  return humanDuration(t - now.getTime());
}

/**
 * Container logs as the kubelet serves them, read from the CRI log files the runtime writes
 * (`<RFC 3339 time> <stdout|stderr> <F|P> <text>` per line, P marking a partial line): the
 * options of `kubectl logs` — tailLines, sinceSeconds/sinceTime, timestamps, limitBytes — and
 * follow, which keeps reading as the file grows until the container stops.
 */
import { open, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  /** Only lines at or after this time (ms since the epoch). */
  since?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

interface LogLine {
  time: string;
  text: string;
}

/** Parses CRI log text into whole lines (partial pieces joined); a trailing partial piece is returned as rest. */
export function parseCriLog(text: string, pending = ''): { lines: LogLine[]; rest: string } {
  const lines: LogLine[] = [];
  let partial = pending;
  let partialTime = '';
  const raw = text.split('\n');
  const tail = raw.pop() ?? '';
  for (const line of raw) {
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const c = line.indexOf(' ', b + 1);
    if (a < 0 || b < 0) continue;
    const time = line.slice(0, a);
    const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
    const body = c < 0 ? '' : line.slice(c + 1);
    if (tag === 'P') {
      partial += body;
      partialTime ||= time;
      continue;
    }
    lines.push({ time: partialTime || time, text: partial + body });
    partial = '';
    partialTime = '';
  }
  return { lines, rest: tail };
}

/** The time Kubernetes prints with `--timestamps` (RFC 3339 with nanoseconds, as the file has it). */
function format(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${line.time} ${line.text}\n` : `${line.text}\n`;
}

/**
 * Writes the log to `out`. With `follow`, keeps polling the file until `stillRunning()` answers
 * false (then reads what is left) or `out` closes.
 */
export async function streamLog(path: string, opts: LogOptions, out: Writable, stillRunning: () => Promise<boolean>): Promise<void> {
  const fh = await open(path, 'r');
  let written = 0;
  const limit = opts.limitBytes ?? Infinity;
  let closed = false;
  out.once('close', () => (closed = true));
  const emit = (lines: LogLine[]): boolean => {
    for (const l of lines) {
      if (opts.since !== undefined && Date.parse(l.time) < opts.since) continue;
      let s = format(l, !!opts.timestamps);
      if (written + Buffer.byteLength(s) > limit) s = Buffer.from(s).subarray(0, limit - written).toString();
      out.write(s);
      written += Buffer.byteLength(s);
      if (written >= limit) return false;
    }
    return true;
  };
  try {
    let pos = 0;
    let rest = '';
    const readMore = async (): Promise<LogLine[]> => {
      const size = (await stat(path)).size;
      if (size <= pos) return [];
      const buf = Buffer.alloc(size - pos);
      await fh.read(buf, 0, buf.length, pos);
      pos = size;
      const parsed = parseCriLog(rest + buf.toString('utf8'));
      rest = parsed.rest;
      return parsed.lines;
    };
    let first = await readMore();
    if (opts.tailLines !== undefined) first = opts.tailLines <= 0 ? [] : first.slice(-opts.tailLines);
    if (!emit(first) || !opts.follow) return;
    for (;;) {
      if (closed) return;
      const running = await stillRunning();
      const more = await readMore();
      if (!emit(more)) return;
      if (!running) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await fh.close();
  }
}

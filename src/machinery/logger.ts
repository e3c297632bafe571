/** Structured logs: one JSON object a line on stderr; quiet (warnings and errors) unless asked. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `component` to every line. */
  child(component: string): Logger;
}

export function createLogger(level: LogLevel = 'warn', write: (line: string) => void = (l) => process.stderr.write(l + '\n'), base: Record<string, unknown> = {}): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (rank[lvl] > rank[level]) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level: lvl, ...base, msg, ...fields }));
  };
  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    child: (component) => createLogger(level, write, { ...base, component }),
  };
}

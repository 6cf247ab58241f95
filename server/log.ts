/**
 * Structured JSON logs, one object per line: {"time","level","msg",...fields}. Child loggers carry context
 * (sessionId, model). Errors are serialised with their code and cause chain.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function serialiseError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out['code'] = code;
  if (err.stack && depth === 0) out['stack'] = err.stack.split('\n').slice(0, 6).join('\n');
  if (err.cause !== undefined && depth < 3) out['cause'] = serialiseError(err.cause, depth + 1);
  return out;
}

export function createLogger(options: { level: LogLevel; write?: (line: string) => void; fields?: LogFields }): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const min = RANK[options.level];
  const make = (context: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (RANK[level] < min) return;
      const record: LogFields = { time: new Date().toISOString(), level, msg, ...context };
      if (fields) for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? serialiseError(v) : v;
      write(JSON.stringify(record));
    };
    return {
      debug: (msg, fields) => emit('debug', msg, fields),
      info: (msg, fields) => emit('info', msg, fields),
      warn: (msg, fields) => emit('warn', msg, fields),
      error: (msg, fields) => emit('error', msg, fields),
      child: (fields) => make({ ...context, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

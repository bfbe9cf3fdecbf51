/**
 * Structured logs: pino, one JSON object per line on stdout, written synchronously to fd 1.
 * Every listener thread makes its own logger on the same fd (a worker's `process.stdout` would be
 * relayed through the main thread and arrive late or be lost at exit); a log line costs a write(2),
 * which is fine because the server logs lifecycle events and failures, never every request.
 */
import pino from 'pino'

export type Logger = pino.Logger

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v)
}

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  )
}

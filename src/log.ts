// Structured logging for the whole service: one pino root, child loggers per stage.
import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger; level from TENANTSCOPE_LOG_LEVEL (default info, silent under tests). */
export const rootLogger: Logger = pino({
  name: 'tenantscope',
  level: process.env.TENANTSCOPE_LOG_LEVEL ?? (process.env.TENANTSCOPE_TEST ? 'silent' : 'info'),
});

/** A child logger for one stage (`ingest`, `store`, `http`, ...). */
export function stageLogger(stage: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ stage, ...bindings });
}

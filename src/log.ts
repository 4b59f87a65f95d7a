export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** One line per event: ISO time, level, message. Level is read per call so reloads apply. */
export function createLogger(level: () => LogLevel): Logger {
  const write = (at: LogLevel) => (message: string) => {
    if (RANK[at] < RANK[level()]) return
    const line = `${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${message}\n`
    if (RANK[at] >= RANK.warn) process.stderr.write(line)
    else process.stdout.write(line)
  }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}

/** Client-supplied text in a log line, quoted and escaped so it can never forge or split a line. */
export const quote = (text: string) => JSON.stringify(text)

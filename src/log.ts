export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type LogFormat = 'text' | 'json'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Structured extras of a line: keys of the JSON object in `json` format, not shown in `text`. */
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

/** The `logging` config object; read per line, so a reload applies from the next line on. */
export interface LogSettings {
  level: LogLevel
  format?: LogFormat
}

/**
 * Text from clients (usernames, channel names, plugin names) as a JSON string literal, so a
 * newline or control character in it can never start a forged log line.
 */
export const quote = (text: string): string => JSON.stringify(text)

/** The level of one line (`silent` is only a threshold). */
export type LineLevel = Exclude<LogLevel, 'silent'>

/** One line, newline included. `text`: ISO time, level, message. `json`: one object per line. */
export function formatLine(format: LogFormat, level: LineLevel, message: string, fields: LogFields = {}, time = new Date()): string {
  if (format === 'json') {
    const line: LogFields = { time: time.toISOString(), level, msg: message }
    // A field never replaces time, level or message.
    for (const [key, value] of Object.entries(fields)) if (!(key in line)) line[key] = value
    return `${JSON.stringify(line)}\n`
  }
  return `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`
}

/** Receives each formatted line (tests collect them). */
export type LogSink = (line: string, level: LineLevel) => void

/** Warnings and errors to stderr, the rest to stdout. */
const processSink: LogSink = (line, level) => (RANK[level] >= RANK.warn ? process.stderr : process.stdout).write(line)

export function createLogger(settings: () => LogSettings, sink: LogSink = processSink): Logger {
  const write = (level: LineLevel) => (message: string, fields?: LogFields) => {
    const { level: threshold, format = 'text' } = settings()
    if (RANK[level] < RANK[threshold]) return
    sink(formatLine(format, level, message, fields), level)
  }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}

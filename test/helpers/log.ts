import { createLogger, type LogFormat, type Logger } from '../../src/log.ts'

/** The server's own logger at `debug`, keeping every line it writes; tests wait for the lines they expect. */
export class LogRecorder {
  readonly lines: string[] = []
  readonly log: Logger
  private waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = []

  constructor(format: LogFormat = 'text') {
    this.log = createLogger(() => ({ level: 'debug', format }), (line) => this.add(line.trimEnd()))
  }

  /** The first line (already written or still to come) matching `match`. */
  waitFor(match: RegExp): Promise<string> {
    const found = this.lines.find((line) => match.test(line))
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }

  private add(line: string) {
    this.lines.push(line)
    for (const waiter of [...this.waiters]) {
      if (!waiter.match.test(line)) continue
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  }
}

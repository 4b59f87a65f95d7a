import type { Subprocess } from 'bun'
import { join } from 'node:path'
import type { Packet, TestClient } from './client.ts'

/** The repository root, for spawning `bun src/cli.ts`. */
export const ROOT = join(import.meta.dir, '..', '..')

/** `originchats <ver> serving on ws[s]://HOST:PORT/ (data: DIR)` — logged by `serve` once listening. */
const SERVING = /originchats (\S+) serving on (wss?:\/\/\S+\/) \(data: (.*)\)$/

/** The message of a log line: the `msg` of a `logging.format: "json"` line, else the line itself. */
export function messageOf(line: string): string {
  if (!line.startsWith('{')) return line
  try {
    const parsed = JSON.parse(line) as { msg?: unknown }
    return typeof parsed.msg === 'string' ? parsed.msg : line
  } catch {
    return line
  }
}

export interface Finished {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to completion (it must exit by itself) and collects its output. */
export async function run(cmd: string[], cwd = ROOT): Promise<Finished> {
  const proc = Bun.spawn(cmd, { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

/** Every server process not yet known to have exited, so a failed or timed-out test cannot leak one. */
const running = new Set<ServerProcess>()

/** SIGKILLs every server process still running; call it from `afterAll`. */
export async function killAll() {
  const left = [...running]
  for (const server of left) server.kill()
  await Promise.all(left.map((server) => server.exited))
}

process.on('exit', () => {
  for (const server of running) server.kill()
})

/**
 * Sends an authentication packet (`register`, `login`, `auth`) and resolves with `ready`;
 * rejects on `auth_error` or when the socket closes first, so a failed login never hangs a test.
 */
export function authenticate(client: TestClient, packet: Packet): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent) => {
      const reply = JSON.parse(String(event.data)) as Packet
      if (reply.cmd === 'ready') resolve(reply)
      else if (reply.cmd === 'auth_error') reject(new Error(`${packet.cmd} failed: ${reply.val}`))
      else return
      client.ws.removeEventListener('message', onMessage)
    }
    client.ws.addEventListener('message', onMessage)
    client.closed.then(({ code }) => reject(new Error(`socket closed (${code}) before ${packet.cmd} completed`)))
    client.send(packet)
  })
}

/**
 * A server running as a child process. `start` resolves once the process printed its
 * "serving on" line (so `url` is known); stdout is read line by line for as long as it runs,
 * so the pipe never fills up. Dispose (or `kill`) always ends it.
 */
export class ServerProcess {
  readonly lines: string[] = []
  stderr = ''
  readonly exited: Promise<number>
  url = ''
  version = ''
  dataDir = ''
  private waiters: Array<{ match: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }> = []
  private ended = false

  private constructor(readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>) {
    const stdoutDone = this.readLines()
    const stderrDone = new Response(proc.stderr).text().then((text) => void (this.stderr = text))
    running.add(this)
    this.exited = Promise.all([proc.exited, stdoutDone, stderrDone]).then(([code]) => {
      running.delete(this)
      this.ended = true
      for (const waiter of this.waiters) waiter.reject(new Error(`process exited (${code}) first; stderr:\n${this.stderr}`))
      this.waiters = []
      return code
    })
  }

  /** Spawns `cmd` (a command line ending in `serve ...`) and waits until it is listening. */
  static async start(cmd: string[], cwd = ROOT): Promise<ServerProcess> {
    const server = new ServerProcess(Bun.spawn(cmd, { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
    try {
      const [, version, url, dataDir] = await server.waitFor(SERVING)
      Object.assign(server, { version, url, dataDir })
    } catch (error) {
      server.kill()
      throw error
    }
    return server
  }

  get port(): number {
    return Number(new URL(this.url).port)
  }

  get httpUrl(): string {
    return this.url.replace(/^ws/, 'http')
  }

  /** Resolves with the first stdout line (already printed or still to come) whose message matches `match`. */
  waitFor(match: RegExp): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const found = messageOf(line).match(match)
      if (found) return Promise.resolve(found)
    }
    if (this.ended) return Promise.reject(new Error(`process exited without printing ${match}; stderr:\n${this.stderr}`))
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }))
  }

  signal(signal: NodeJS.Signals) {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
  }

  /** SIGKILL, unless it already exited. */
  kill() {
    this.signal('SIGKILL')
  }

  async [Symbol.asyncDispose]() {
    this.kill()
    await this.exited
  }

  private async readLines() {
    const decoder = new TextDecoder()
    let pending = ''
    for await (const chunk of this.proc.stdout) {
      pending += decoder.decode(chunk, { stream: true })
      let newline
      while ((newline = pending.indexOf('\n')) >= 0) {
        this.line(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
      }
    }
    if (pending) this.line(pending)
  }

  private line(text: string) {
    this.lines.push(text)
    for (const waiter of [...this.waiters]) {
      const found = messageOf(text).match(waiter.match)
      if (!found) continue
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve(found)
    }
  }
}

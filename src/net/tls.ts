import type { Server } from 'bun'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { LocalBus } from '../bus/local.ts'
import { ConfigError } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { watchFiles } from '../config/watch.ts'
import type { Logger } from '../log.ts'
import type { Session } from './session.ts'

/** PEM contents, as Bun.serve takes them. */
export interface TlsFiles {
  cert: string
  key: string
}

/** Where the certificate and key are, resolved against config.json's folder. */
export interface TlsPaths {
  cert: string
  key: string
}

/** The `tls` paths of `config`, or undefined when TLS is off; one without the other is an error. */
export function tlsPaths(config: Config, configPath: string | undefined): TlsPaths | undefined {
  const { cert, key } = config.tls
  if (cert === undefined && key === undefined) return undefined
  if (cert === undefined || key === undefined) throw new ConfigError(`tls: set both tls.cert and tls.key (only tls.${cert ? 'cert' : 'key'} is set)`)
  const base = configPath ? dirname(resolve(configPath)) : process.cwd()
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path))
  return { cert: at(cert), key: at(key) }
}

/** Throws unless `files` are a PEM certificate (chain) and its matching private key. */
function check(files: TlsFiles, paths: TlsPaths) {
  try {
    createSecureContext(files)
  } catch (error) {
    throw new ConfigError(`tls: ${paths.cert} and ${paths.key} are not a usable certificate and key (${(error as Error).message})`)
  }
}

/** Reads and checks the certificate and key at start-up; a missing or bad file is a ConfigError. */
export function loadTls(paths: TlsPaths): TlsFiles {
  const read = (name: 'cert' | 'key') => {
    try {
      return readFileSync(paths[name], 'utf8')
    } catch (error) {
      throw new ConfigError(`tls.${name}: cannot read ${paths[name]} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  const files = { cert: read('cert'), key: read('key') }
  check(files, paths)
  return files
}

/**
 * The listening server, replaceable. Bun's `server.reload()` ignores `tls`
 * (oven-sh/bun#8872, #43815), so a renewed certificate means a new Bun.serve on the same port:
 * the old one stops accepting and keeps its open WebSockets, which stay on the bus until they
 * close. App state (store, hub, sessions, config) is untouched.
 */
export class Listener {
  private current: Server<Session>
  private retired: Server<Session>[] = []

  constructor(
    private readonly start: (port: number, tls: TlsFiles | undefined) => Server<Session>,
    port: number,
    private tls: TlsFiles | undefined,
    private readonly bus: LocalBus,
  ) {
    this.current = start(port, tls)
    bus.attach(this.current)
  }

  get server(): Server<Session> {
    return this.current
  }

  /** Serves new connections with `tls`; if that fails, goes on with the previous certificate and throws. */
  renew(tls: TlsFiles) {
    const previous = this.current
    const port = previous.port!
    // Stops accepting; its WebSockets stay open (and on the bus) until they close.
    void previous.stop(false)
    let failure: unknown
    try {
      this.current = this.start(port, tls)
      this.tls = tls
    } catch (error) {
      failure = error
      // The port was just released; take it back as it was.
      this.current = this.start(port, this.tls)
    }
    this.bus.attach(this.current)
    this.retire(previous)
    if (failure) throw failure
  }

  /**
   * Renews the certificate whenever the files at `paths` change (a renewal replaces both, maybe
   * one after the other: a pair that does not match yet is logged and waited out).
   */
  watch(paths: TlsPaths, log: Logger): { stop(): Promise<void> } {
    /** The last problem reported, so one bad state is one warning however many events it causes. */
    let reported: string | undefined
    const refuse = (problem: string) => {
      if (problem !== reported) log.warn(`TLS certificate not reloaded, keeping the current one: ${problem}`)
      reported = problem
    }
    return watchFiles(
      [paths.cert, paths.key],
      async () => {
        let files: TlsFiles
        try {
          files = { cert: await readFile(paths.cert, 'utf8'), key: await readFile(paths.key, 'utf8') }
        } catch (error) {
          // Missing: mid-replacement, and the new file's arrival brings another event.
          const { code, path } = error as NodeJS.ErrnoException
          if (code !== 'ENOENT') refuse(`cannot read ${path} (${code})`)
          return
        }
        if (files.cert === this.tls?.cert && files.key === this.tls?.key) return
        try {
          check(files, paths)
        } catch (error) {
          return refuse((error as Error).message)
        }
        reported = undefined
        this.renew(files)
        log.info(`TLS certificate reloaded from ${paths.cert}`)
      },
      log,
    )
  }

  /** Stops every listener: the current one and older ones still holding connections. */
  async stop(closeActiveConnections: boolean) {
    await Promise.all([this.current, ...this.retired].map((server) => server.stop(closeActiveConnections)))
  }

  private retire(server: Server<Session>) {
    this.retired.push(server)
    // Older listeners whose last connection has closed leave the bus at the next renewal.
    for (const old of this.retired.filter((s) => s !== server && s.pendingWebSockets === 0 && s.pendingRequests === 0)) {
      this.retired.splice(this.retired.indexOf(old), 1)
      this.bus.detach(old)
      void old.stop(true)
    }
  }
}

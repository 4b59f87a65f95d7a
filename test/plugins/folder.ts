import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '../../src/log.ts'
import type { PluginManager, PluginReport } from '../../src/plugins/loader.ts'
import type { Packet, TestClient } from '../helpers/client.ts'
import { startServer, type ConfigOverrides, type TestServer } from '../helpers/server.ts'

/** A temporary plugins folder; files are written atomically (temp file + rename), as editors do. */
export class PluginFolder {
  private constructor(readonly dir: string) {}

  static async create(files: Record<string, string> = {}): Promise<PluginFolder> {
    const folder = new PluginFolder(await mkdtemp(join(tmpdir(), 'originchats-plugins-')))
    for (const [file, source] of Object.entries(files)) await writeFile(join(folder.dir, file), source)
    return folder
  }

  async write(file: string, source: string) {
    const temporary = join(this.dir, `.${file}.tmp`)
    await writeFile(temporary, source)
    await rename(temporary, join(this.dir, file))
  }

  async remove(file: string) {
    await rm(join(this.dir, file))
  }

  async [Symbol.asyncDispose]() {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * A test server loading `folder`, with no built-in plugin unless `overrides` switch one on (so
 * plugin lists hold the folder's plugins only); resolves once the first load is complete.
 * `log` receives the server's log lines.
 */
export async function serverWith(folder: PluginFolder, overrides: ConfigOverrides = {}, log?: Logger): Promise<TestServer> {
  const plugins = { dir: folder.dir, builtin: { commands: { enabled: false } }, ...(overrides.plugins as object | undefined) }
  const server = await startServer({ ...overrides, plugins } as ConfigOverrides, log)
  await server.app.plugins.ready
  return server
}

/** Resolves with the first report matching `match` (subscribe before causing it). */
export function nextReport(plugins: PluginManager, match: Partial<PluginReport>): Promise<PluginReport> {
  return new Promise((resolve) => {
    const stop = plugins.onReport((report) => {
      if (Object.entries(match).every(([key, value]) => (report as Record<string, unknown>)[key] === value)) {
        stop()
        resolve(report)
      }
    })
  })
}

/** Every report from now until `stop()`. */
export function recordReports(plugins: PluginManager): { reports: PluginReport[]; stop: () => void } {
  const reports: PluginReport[] = []
  const stop = plugins.onReport((report) => reports.push(report))
  return { reports, stop }
}

/** The next `message_new` whose author is `author`. */
export const messageFrom = (client: TestClient, author: string): Promise<Packet> => client.next('message_new', (p) => p.message?.user === author)

/** A plugin source answering new messages that start with `trigger`, as user `author`. */
export const replier = (author: string, extra = '') => `
export const getInfo = () => ({ name: '${author}', description: 'replies', handles: ['new_message'] })
${extra}
export async function on_new_message(conn, data, api) {
  if (data.content.startsWith('${author.toLowerCase()}?')) await api.sendMessage(data.channel, '${author} heard ' + data.username, { author: '${author}' })
}
`

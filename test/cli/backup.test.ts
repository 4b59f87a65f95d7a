import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, watch } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '../../src/store/sqlite/index.ts'
import type { Packet } from '../helpers/client.ts'
import { run } from '../helpers/process.ts'
import { startServer } from '../helpers/server.ts'

let root = ''

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-backup-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const GENERAL = { channel: 'general', thread_id: null }

/** IDs of `ids` missing from the database file at `path`. */
async function missingFrom(path: string, ids: string[]): Promise<string[]> {
  const store = createSqliteStore(path)
  try {
    const missing: string[] = []
    for (const id of ids) if (!(await store.messages.get(GENERAL, id))) missing.push(id)
    return missing
  } finally {
    store.close()
  }
}

test.concurrent('`backup` copies a serving database under message load with every acknowledged message', async () => {
  await using server = await startServer()
  const folder = await mkdtemp(join(root, 'load-'))
  const config = join(folder, 'config.json')
  await writeFile(config, '{}')
  const target = join(folder, 'copy.db')
  const SENDERS = 3
  const PER_SENDER = 400
  const WINDOW = 8
  const START_BACKUP_AFTER = 150
  const acked: string[] = []
  let startBackup!: () => void
  const loaded = new Promise<void>((resolve) => (startBackup = resolve))

  // Each sender keeps WINDOW messages in flight; its own echo is the acknowledgement (stored by then).
  const senders = await Promise.all(Array.from({ length: SENDERS }, (_, n) => server.login(`sender${n}`)))
  const finished = senders.map(
    (client, n) =>
      new Promise<void>((resolve, reject) => {
        let sent = 0
        let own = 0
        const sendOne = () => client.send({ cmd: 'message_new', channel: 'general', content: `sender${n} #${++sent}` })
        client.ws.addEventListener('message', (event) => {
          const packet = JSON.parse(String(event.data)) as Packet
          if (packet.cmd === 'error') reject(new Error(`refused: ${packet.val}`))
          if (packet.cmd !== 'message_new' || packet.message.user !== `sender${n}`) return
          acked.push(packet.message.id)
          if (acked.length === START_BACKUP_AFTER) startBackup()
          if (++own === PER_SENDER) resolve()
          else if (sent < PER_SENDER) sendOne()
        })
        for (let i = 0; i < WINDOW; i++) sendOne()
      }),
  )

  await loaded
  // Everything acknowledged before the backup starts must be in the copy.
  const before = [...acked]
  const backup = run([process.execPath, 'src/cli.ts', 'backup', target, '--config', config, '--data', server.dir])
  const [result] = await Promise.all([backup, ...finished])
  expect(result).toEqual({ code: 0, stdout: expect.stringContaining(`written to ${target}`), stderr: '' })
  // The load really was running: the backup began before the senders were done.
  expect(before.length).toBeLessThan(SENDERS * PER_SENDER)
  expect(await missingFrom(target, before)).toEqual([])
  expect(existsSync(`${target}.partial`)).toBe(false)
})

test.concurrent('`backup` without a database says so and exits 1', async () => {
  const folder = await mkdtemp(join(root, 'none-'))
  const config = join(folder, 'config.json')
  await writeFile(config, '{}')
  const result = await run([process.execPath, 'src/cli.ts', 'backup', join(folder, 'copy.db'), '--config', config, '--data', join(folder, 'data')])
  expect(result).toEqual({ code: 1, stdout: '', stderr: `originchats: no database at ${join(folder, 'data', 'originchats.db')}\n` })
})

test.concurrent('periodic backups while serving keep the newest `keep` files', async () => {
  const dir = await mkdtemp(join(root, 'periodic-'))
  const KEEP = 2
  // 3 ms between runs: fractional minutes are allowed.
  await using server = await startServer({ backup: { interval_minutes: 0.00005, dir, keep: KEEP } })
  const alice = await server.login('alice')
  const { message } = await alice.request({ cmd: 'message_new', channel: 'general', content: 'back me up' })

  // A backup appears by a rename of a complete file; count the ones made after the message.
  const seen: string[] = []
  const watcher = watch(dir)
  await new Promise<void>((resolve) => {
    watcher.on('change', (_event, name) => {
      const file = String(name)
      if (!file.endsWith('.db') || seen.includes(file) || !existsSync(join(dir, file))) return
      seen.push(file)
      if (seen.length === KEEP + 2) resolve()
    })
  })
  watcher.close()
  // Stopping waits for a backup in progress; then the folder is final.
  await server.app.stop()
  const files = (await readdir(dir)).sort()
  expect(files).toHaveLength(KEEP)
  expect(files.every((file) => /^originchats-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.db$/.test(file))).toBe(true)
  expect(files).not.toContain(seen[0])
  expect(await missingFrom(join(dir, files.at(-1)!), [message.id])).toEqual([])
})

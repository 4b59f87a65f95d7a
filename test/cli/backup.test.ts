import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, watch } from 'node:fs'
import { link, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeBackup } from '../../src/backup/backup.ts'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
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
  const entries = (await readdir(dir)).sort()
  const files = entries.filter((name) => name.endsWith('.db'))
  expect(files).toHaveLength(KEEP)
  expect(files.every((file) => /^originchats-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.db$/.test(file))).toBe(true)
  // Each kept copy has its files folder, and pruned copies took theirs along.
  expect(entries).toEqual(files.flatMap((file) => [file, file.replace(/\.db$/, '.files')]).sort())
  expect(files).not.toContain(seen[0])
  expect(await missingFrom(join(dir, files.at(-1)!), [message.id])).toEqual([])
})

/** A folder with config.json and a data folder holding a database with one message. */
async function withDatabase(name: string) {
  const folder = await mkdtemp(join(root, `${name}-`))
  const config = join(folder, 'config.json')
  await writeFile(config, '{}')
  const data = join(folder, 'data')
  const database = join(data, DATABASE_FILE)
  const store = createSqliteStore(database)
  const message = await store.messages.insert({ ...GENERAL, user: 'u1', content: 'precious' })
  store.close()
  const backup = (target: string) => run([process.execPath, 'src/cli.ts', 'backup', target, '--config', config, '--data', data])
  return { folder, data, database, id: message.id, backup }
}

test.concurrent('`backup <folder>` writes a timestamped file inside the folder', async () => {
  const { folder, database, id, backup } = await withDatabase('folder')
  const into = join(folder, 'copies')
  await mkdir(into)
  const result = await backup(into)
  const files = (await readdir(into)).filter((name) => name.endsWith('.db'))
  expect(files).toEqual([expect.stringMatching(/^originchats-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.db$/)])
  expect(result).toEqual({ code: 0, stdout: expect.stringContaining(`backup of ${database} written to ${join(into, files[0]!)} (`), stderr: '' })
  expect(await missingFrom(join(into, files[0]!), [id])).toEqual([])
})

test.concurrent('`backup` copies the uploads, emojis, server assets and push keys beside the database, and only those', async () => {
  const { folder, data, backup } = await withDatabase('files')
  const stored = {
    'attachments/3f1c.png': 'png bytes',
    'emojis/0.gif': 'gif bytes',
    'serverAssets/icon.png': 'icon',
    'vapid/private_key.pem': 'key',
  }
  for (const [path, body] of Object.entries(stored)) await Bun.write(join(data, path), body)
  // A half-written upload and other folders of the data folder stay out.
  await Bun.write(join(data, 'attachments', '3f1d.png.partial'), 'half')
  await Bun.write(join(data, 'plugins', 'state.json'), '{}')
  const target = join(folder, 'copy.db')
  const result = await backup(target)
  expect(result.stdout).toContain(`its files to ${join(folder, 'copy.files')}`)
  const copied = (await readdir(join(folder, 'copy.files'), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(join(folder, 'copy.files').length + 1))
    .sort()
  expect(copied).toEqual(Object.keys(stored).sort())
  for (const [path, body] of Object.entries(stored)) expect(await Bun.file(join(folder, 'copy.files', path)).text()).toBe(body)
  expect(existsSync(join(folder, 'copy.files.partial'))).toBe(false)
})

test.concurrent('`backup` into a missing folder, or below a file, fails in one line and writes nothing', async () => {
  const { folder, backup } = await withDatabase('missing')
  const missing = join(folder, 'nowhere', 'copy.db')
  expect(await backup(missing)).toEqual({
    code: 1,
    stdout: '',
    stderr: `originchats: cannot write ${missing}: the folder ${join(folder, 'nowhere')} does not exist\n`,
  })
  const belowFile = join(folder, 'config.json', 'copy.db')
  expect(await backup(belowFile)).toEqual({
    code: 1,
    stdout: '',
    stderr: `originchats: cannot write ${belowFile}: ${join(folder, 'config.json')} is not a folder\n`,
  })
  expect(existsSync(join(folder, 'nowhere'))).toBe(false)
})

// Root may write anywhere, so an unwritable folder can only be shown to other users.
test.concurrent.skipIf(process.getuid?.() === 0)('`backup` into a folder it may not write fails in one line', async () => {
  const { folder, backup } = await withDatabase('readonly')
  const locked = join(folder, 'locked')
  await mkdir(locked, { mode: 0o555 })
  expect(await backup(join(locked, 'copy.db'))).toEqual({
    code: 1,
    stdout: '',
    stderr: `originchats: cannot write ${join(locked, 'copy.db')}: the folder ${locked} is not writable\n`,
  })
})

test.concurrent('`backup` refuses to overwrite the live database, its -wal or -shm, through symlinks and hard links too', async () => {
  const { folder, data, database, id, backup } = await withDatabase('live')
  await symlink(database, join(folder, 'db-link'))
  await symlink(data, join(folder, 'data-link'))
  await link(database, join(folder, 'db-hard'))
  const targets = [database, `${database}-wal`, `${database}-shm`, join(folder, 'db-link'), join(folder, 'data-link', DATABASE_FILE), join(folder, 'db-hard')]
  for (const target of targets) {
    expect(await backup(target)).toEqual({
      code: 1,
      stdout: '',
      stderr: `originchats: refusing to write the backup over the live database's file ${target}; choose another file or a folder\n`,
    })
  }
  expect(await missingFrom(database, [id])).toEqual([])
  expect((await readdir(data)).filter((name) => name.endsWith('.partial'))).toEqual([])
})

test.concurrent('a backup that fails leaves no .partial file behind', async () => {
  const { folder, database } = await withDatabase('partial')
  // A non-empty folder at the target makes the final rename fail after the copy was written.
  const target = join(folder, 'occupied')
  await mkdir(target)
  await writeFile(join(target, 'keep'), '')
  await expect(writeBackup(database, target)).rejects.toThrow()
  expect(existsSync(`${target}.partial`)).toBe(false)
})

test.concurrent('`backup` with the PostgreSQL store refuses in one line pointing to pg_dump, even beside an old SQLite file', async () => {
  const folder = await mkdtemp(join(root, 'postgres-'))
  createSqliteStore(join(folder, DATABASE_FILE)).close()
  const config = join(folder, 'config.json')
  await writeFile(config, JSON.stringify({ storage: { driver: 'postgres', url: 'postgres://db.invalid/chat', data_dir: '.' } }))
  expect(await run([process.execPath, 'src/cli.ts', 'backup', join(folder, 'copy.db'), '--config', config])).toEqual({
    code: 1,
    stdout: '',
    stderr: 'originchats: backup copies a SQLite database; with storage.driver "postgres" use pg_dump (and copy the data folder\'s files)\n',
  })
  expect(existsSync(join(folder, 'copy.db'))).toBe(false)
})

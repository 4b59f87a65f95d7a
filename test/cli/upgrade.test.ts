import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { migrate } from '../../src/store/sqlite/migrate.ts'
import { migrations } from '../../src/store/sqlite/migrations/index.ts'
import { openDatabase } from '../../src/store/sqlite/open.ts'
import { TestClient } from '../helpers/client.ts'
import { killAll, run, ServerProcess } from '../helpers/process.ts'

let root = ''
const LATEST = Math.max(...migrations.map((m) => m.version))

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-upgrade-'))
})

afterAll(async () => {
  await killAll()
  await rm(root, { recursive: true, force: true })
})

/** A config.json and a data folder whose database `build` prepared. */
async function folderAt(name: string, build: (db: ReturnType<typeof openDatabase>) => void) {
  const folder = await mkdtemp(join(root, `${name}-`))
  const config = join(folder, 'config.json')
  await writeFile(config, JSON.stringify({ websocket: { port: 0 }, logging: { level: 'info' } }))
  const data = join(folder, 'data')
  const db = openDatabase(join(data, DATABASE_FILE))
  build(db)
  db.close()
  return { folder, config, data, cli: (...args: string[]) => [process.execPath, 'src/cli.ts', ...args, '--config', config, '--data', data] }
}

test.concurrent('serve copies an older database to backups/ and logs the upgrade before serving', async () => {
  const { data, cli } = await folderAt('older', (db) => migrate(db, migrations.slice(0, 1)))
  await using server = await ServerProcess.start(cli('serve'))
  const [backup] = await readdir(join(data, 'backups'))
  expect(backup).toMatch(new RegExp(`^pre-migration-v1-to-v${LATEST}-.+\\.db$`))
  const database = join(data, DATABASE_FILE)
  const logged = (text: string) => server.waitFor(new RegExp(`INFO  ${RegExp.escape(text)}`))
  await logged(`copied ${database} (schema v1) to ${join(data, 'backups', backup!)} before upgrading it`)
  await logged(`upgraded ${database} from schema v1 to v${LATEST} (applied migrations 2 defaults, 3 modlog`)
  // Migration 2's #general is there: the upgraded database serves.
  await using client = await TestClient.connect(server.url)
  expect(client.handshake.cmd).toBe('handshake')
})

test.concurrent('serve and import refuse a database from a newer binary in one line, and copy nothing', async () => {
  const { folder, data, cli } = await folderAt('newer', (db) => {
    migrate(db)
    db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)', [LATEST + 1, 'future'])
  })
  const refusal =
    `originchats: ${join(data, DATABASE_FILE)} has database schema version ${LATEST + 1}, but this originchats knows versions up to ${LATEST}: ` +
    'it was upgraded by a newer originchats. Run that newer binary, or restore a backup made before the upgrade.\n'
  // serve has only said which configuration it read when it meets the database.
  expect(await run(cli('serve'))).toEqual({ code: 1, stdout: expect.not.stringContaining('serving on'), stderr: refusal })
  const upstream = join(folder, 'upstream')
  await Bun.write(join(upstream, 'db', 'users.json'), '{}')
  expect(await run(cli('import', upstream))).toEqual({ code: 1, stdout: '', stderr: refusal })
  // Nothing was copied for an upgrade that was refused.
  expect(await readdir(data)).not.toContain('backups')
})

import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
import { DatabaseTooNewError, MigrationError, migrate } from '../../src/store/sqlite/migrate.ts'
import { migrations } from '../../src/store/sqlite/migrations/index.ts'
import { openDatabase } from '../../src/store/sqlite/open.ts'

const root = await mkdtemp(join(tmpdir(), 'originchats-store-'))
afterAll(() => rm(root, { recursive: true, force: true }))

let databases = 0
/** A fresh database file per test, so tests stay independent. */
const freshPath = () => join(root, `db-${++databases}`, DATABASE_FILE)

describe('migrations', () => {
  test('apply once; running them again changes nothing', () => {
    const db = openDatabase(freshPath())
    try {
      expect(migrate(db)).toEqual(migrations.map((m) => m.version))
      expect(migrate(db)).toEqual([])
      expect(db.query('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(
        migrations.map(({ version, name }) => ({ version, name })),
      )
      expect(migrations.slice(0, 2).map((m) => m.name)).toEqual(['initial', 'defaults'])
    } finally {
      db.close()
    }
  })

  const LATEST = Math.max(...migrations.map((m) => m.version))
  const versions = (path: string) => {
    const db = openDatabase(path)
    try {
      return db.query<{ version: number }, []>('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => r.version)
    } finally {
      db.close()
    }
  }

  test('an older database is copied to backups/, then upgraded, and both steps are logged', async () => {
    const path = freshPath()
    const old = openDatabase(path)
    migrate(old, migrations.slice(0, 1))
    old.run(`INSERT INTO users (id, username, data) VALUES ('u1', 'kept', '{}')`)
    old.close()

    const logged: string[] = []
    const store = createSqliteStore(path, 'normal', { log: { info: (line) => logged.push(line) } })
    try {
      // Migration 2 seeds the default roles: proof the pending migrations ran on the old data.
      expect(await store.roles.count()).toBe(4)
      expect((await store.users.get('u1'))?.username).toBe('kept')
    } finally {
      store.close()
    }
    expect(versions(path)).toEqual(migrations.map((m) => m.version))
    const backups = await readdir(join(dirname(path), 'backups'))
    expect(backups).toEqual([expect.stringMatching(new RegExp(`^pre-migration-v1-to-v${LATEST}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+\\.\\d{3}Z\\.db$`))])
    const backup = join(dirname(path), 'backups', backups[0]!)
    // The copy is the database as it was: version 1 only, with its data.
    expect(versions(backup)).toEqual([1])
    expect(logged).toEqual([
      `copied ${path} (schema v1) to ${backup} before upgrading it`,
      `upgraded ${path} from schema v1 to v${LATEST} (applied migrations ${migrations.slice(1).map((m) => `${m.version} ${m.name}`).join(', ')})`,
    ])
  })

  test('a fresh database is created without a backup or log lines', () => {
    const path = freshPath()
    const logged: string[] = []
    createSqliteStore(path, 'normal', { log: { info: (line) => logged.push(line) } }).close()
    expect(versions(path)).toEqual(migrations.map((m) => m.version))
    expect(existsSync(join(dirname(path), 'backups'))).toBe(false)
    expect(logged).toEqual([])
  })

  test('a database from a newer binary is refused and left untouched', async () => {
    const path = freshPath()
    createSqliteStore(path).close()
    const db = openDatabase(path)
    db.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${LATEST + 2}, 'from the future', 0)`)
    // Everything into the main file now: a later open must find nothing of ours left to write.
    db.run('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    const before = await Bun.file(path).bytes()

    expect(() => createSqliteStore(path)).toThrow(DatabaseTooNewError)
    expect(() => createSqliteStore(path)).toThrow(
      `${path} has database schema version ${LATEST + 2}, but this originchats knows versions up to ${LATEST}: ` +
        'it was upgraded by a newer originchats. Run that newer binary, or restore a backup made before the upgrade.',
    )
    expect(await Bun.file(path).bytes()).toEqual(before)
    expect(existsSync(join(dirname(path), 'backups'))).toBe(false)
  })

  test('a failing migration leaves the database as it was, earlier pending ones included', () => {
    const path = freshPath()
    const db = openDatabase(path)
    try {
      migrate(db, migrations.slice(0, 1))
      const broken = { version: LATEST + 1, name: 'broken', up: 'CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1)' }
      expect(() => migrate(db, [...migrations, broken])).toThrow(MigrationError)
      expect(() => migrate(db, [...migrations, broken])).toThrow(`migration ${LATEST + 1} (broken) failed, nothing was changed: no such table: no_such_table`)
      const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('half_done', 'modlog')").all()
      expect(tables).toEqual([])
      expect(db.query('SELECT COUNT(*) AS n FROM roles').get()).toEqual({ n: 0 })
    } finally {
      db.close()
    }
    expect(versions(path)).toEqual([1])
  })

  test('default roles and #general are seeded once, across reopenings', async () => {
    const path = freshPath()
    for (let round = 0; round < 3; round++) {
      const store = createSqliteStore(path)
      try {
        const roles = await store.roles.list()
        expect(roles.map((r) => [r.name, r.position, r.color, r.hoisted])).toEqual([
          ['owner', 0, '#9400D3', true],
          ['admin', 1, '#FF0000', true],
          ['moderator', 2, '#FFFF00', true],
          ['user', 3, null, false],
        ])
        expect(await store.roles.get('owner')).toMatchObject({
          name: 'owner',
          id: expect.any(String),
          description: 'Server owner with ultimate permissions.',
          permissions: ['administrator'],
          self_assignable: false,
          category: null,
        })
        expect(await store.channels.list()).toEqual([
          {
            type: 'text',
            name: 'general',
            description: 'General chat channel for everyone',
            permissions: { view: ['user'], send: ['user'], delete: ['admin', 'moderator'], create_thread: ['user'] },
          },
        ])
        expect(await store.roles.count()).toBe(4)
        expect(await store.channels.count()).toBe(1)
      } finally {
        store.close()
      }
    }
  })
})

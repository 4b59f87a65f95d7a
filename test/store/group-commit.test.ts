import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { GroupCommit } from '../../src/store/sqlite/group-commit.ts'

function table() {
  const db = new Database(':memory:')
  db.run('CREATE TABLE t (v TEXT PRIMARY KEY)')
  return db
}

test('writes queued in one turn are written together, inside a transaction, before they settle', async () => {
  const db = table()
  const seen: boolean[] = []
  const writes = new GroupCommit<string>(db, (v) => {
    seen.push(db.inTransaction)
    db.run('INSERT INTO t VALUES (?)', [v])
  })
  const settled = Promise.all(['a', 'b', 'c'].map((v) => writes.add(v)))
  // Nothing is written before the group commit runs.
  expect(db.query('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 0 })
  expect(await settled).toEqual(['a', 'b', 'c'])
  expect(seen).toEqual([true, true, true])
  expect(db.query('SELECT v FROM t ORDER BY rowid').all()).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }])
})

test('one failing write fails alone; its neighbours are still stored', async () => {
  const db = table()
  db.run("INSERT INTO t VALUES ('taken')")
  const writes = new GroupCommit<string>(db, (v) => db.run('INSERT INTO t VALUES (?)', [v]))
  const results = await Promise.allSettled(['x', 'taken', 'y'].map((v) => writes.add(v)))
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  expect(db.query('SELECT v FROM t ORDER BY rowid').all()).toEqual([{ v: 'taken' }, { v: 'x' }, { v: 'y' }])
})

test('flush writes what is waiting at once, for shutdown', async () => {
  const db = table()
  const writes = new GroupCommit<string>(db, (v) => db.run('INSERT INTO t VALUES (?)', [v]))
  const pending = writes.add('last')
  writes.flush()
  expect(db.query('SELECT v FROM t').all()).toEqual([{ v: 'last' }])
  expect(await pending).toBe('last')
})

test('each commit is reported with its duration and the items it stored, before any caller resumes', async () => {
  const db = table()
  db.run("INSERT INTO t VALUES ('taken')")
  const commits: Array<{ seconds: number; stored: number }> = []
  const writes = new GroupCommit<string>(
    db,
    (v) => db.run('INSERT INTO t VALUES (?)', [v]),
    (seconds, stored) => commits.push({ seconds, stored }),
  )
  const first = await Promise.all(['a', 'b', 'c'].map((v) => writes.add(v)).map((p) => p.then(() => commits.length)))
  expect(first).toEqual([1, 1, 1])
  // A failing row makes the batch fall back to one write each; only the stored ones count.
  await Promise.allSettled(['x', 'taken', 'y'].map((v) => writes.add(v)))
  expect(commits.map(({ stored }) => stored)).toEqual([3, 2])
  for (const { seconds } of commits) expect(seconds).toBeGreaterThanOrEqual(0)
})

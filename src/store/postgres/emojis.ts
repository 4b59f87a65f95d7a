import type { EmojiRecord, EmojiRepo } from '../types.ts'
import type { Database, Queries } from './db.ts'

interface Row {
  id: string
  name: string
  file_name: string
}

const toRecord = (row: Row): EmojiRecord => ({ id: String(row.id), name: row.name, fileName: row.file_name })
const fileName = (id: number, extension: string) => `${id}.${extension}`
/** IDs as stored; anything that is not a canonical decimal names no emoji. */
const numericId = (id: string) => (/^(0|[1-9]\d{0,15})$/.test(id) ? Number(id) : undefined)

const SELECT = 'SELECT id, name, file_name FROM emojis'

/**
 * Every write first locks the ID counter's row: emoji writes from all nodes take turns, so the
 * name and count checks hold until the write commits.
 */
async function lockCounter(tx: Queries): Promise<number> {
  const row = await tx.one<{ next: string; highest: string | null }>('SELECT next, (SELECT MAX(id) + 1 FROM emojis) AS highest FROM emoji_ids FOR UPDATE')
  return Math.max(Number(row!.next), Number(row!.highest ?? 0))
}

const nameTaken = async (tx: Queries, name: string, except: number) => !!(await tx.one('SELECT 1 FROM emojis WHERE lower(name) = lower($1) AND id <> $2', [name, except]))

export class PostgresEmojis implements EmojiRepo {
  constructor(private readonly db: Database) {}

  async list() {
    return (await this.db.all<Row>(`${SELECT} ORDER BY id`)).map(toRecord)
  }

  async get(id: string) {
    const key = numericId(id)
    const row = key === undefined ? undefined : await this.db.one<Row>(`${SELECT} WHERE id = $1`, [key])
    return row && toRecord(row)
  }

  async getByName(name: string) {
    const row = await this.db.one<Row>(`${SELECT} WHERE lower(name) = lower($1)`, [name])
    return row && toRecord(row)
  }

  async getByFileName(name: string) {
    const row = await this.db.one<Row>(`${SELECT} WHERE file_name = $1`, [name])
    return row && toRecord(row)
  }

  async insert(name: string, extension: string, maxCount: number, place: (record: EmojiRecord) => void) {
    return this.db.transaction(async (tx): Promise<EmojiRecord | 'taken' | 'full'> => {
      const id = await lockCounter(tx)
      if (await nameTaken(tx, name, -1)) return 'taken'
      if (Number((await tx.one<{ n: string }>('SELECT COUNT(*) AS n FROM emojis'))!.n) >= maxCount) return 'full'
      const record = { id: String(id), name, fileName: fileName(id, extension) }
      await tx.run('INSERT INTO emojis (id, name, file_name) VALUES ($1, $2, $3)', [id, name, record.fileName])
      await tx.run('UPDATE emoji_ids SET next = $1', [id + 1])
      place(record)
      return record
    })
  }

  async update(id: string, changes: { name?: string; extension?: string }, place: (record: EmojiRecord) => void) {
    const key = numericId(id)
    if (key === undefined) return 'missing' as const
    return this.db.transaction(async (tx) => {
      await lockCounter(tx)
      const row = await tx.one<Row>(`${SELECT} WHERE id = $1`, [key])
      if (!row) return 'missing' as const
      if (changes.name !== undefined && (await nameTaken(tx, changes.name, key))) return 'taken' as const
      const before = toRecord(row)
      const after = {
        ...before,
        name: changes.name ?? before.name,
        fileName: changes.extension === undefined ? before.fileName : fileName(key, changes.extension),
      }
      await tx.run('UPDATE emojis SET name = $1, file_name = $2 WHERE id = $3', [after.name, after.fileName, key])
      place(after)
      return { before, after }
    })
  }

  async delete(id: string) {
    const key = numericId(id)
    if (key === undefined) return undefined
    const row = await this.db.one<Row>('DELETE FROM emojis WHERE id = $1 RETURNING id, name, file_name', [key])
    return row && toRecord(row)
  }

  async importOne(record: EmojiRecord, place: (record: EmojiRecord) => void) {
    const key = numericId(record.id)
    if (key === undefined) return false
    return this.db.transaction(async (tx) => {
      const next = await lockCounter(tx)
      if (await tx.one(`${SELECT} WHERE id = $1 OR file_name = $2`, [key, record.fileName])) return false
      if (await nameTaken(tx, record.name, -1)) return false
      await tx.run('INSERT INTO emojis (id, name, file_name) VALUES ($1, $2, $3)', [key, record.name, record.fileName])
      await tx.run('UPDATE emoji_ids SET next = $1', [Math.max(next, key + 1)])
      place(record)
      return true
    })
  }
}

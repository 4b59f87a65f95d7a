import type { Database } from 'bun:sqlite'
import type { EmojiRecord, EmojiRepo } from '../types.ts'

interface Row {
  id: number
  name: string
  file_name: string
}

const toRecord = (row: Row): EmojiRecord => ({ id: String(row.id), name: row.name, fileName: row.file_name })
const fileName = (id: number, extension: string) => `${id}.${extension}`
/** IDs as stored; anything that is not a canonical decimal names no emoji. */
const numericId = (id: string) => (/^(0|[1-9]\d{0,15})$/.test(id) ? Number(id) : undefined)

export class SqliteEmojis implements EmojiRepo {
  private readonly q

  constructor(private readonly db: Database) {
    const select = (where: string) => db.query<Row, (string | number)[]>(`SELECT id, name, file_name FROM emojis ${where}`)
    this.q = {
      list: select('ORDER BY id'),
      get: select('WHERE id = ?'),
      byName: select('WHERE name = ? COLLATE NOCASE'),
      byFileName: select('WHERE file_name = ?'),
      nameTaken: db.query<{ id: number }, [string, number]>('SELECT id FROM emojis WHERE name = ? COLLATE NOCASE AND id != ?'),
      count: db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM emojis'),
      // The counter, or past the highest stored ID should anything have been stored around it.
      next: db.query<{ next: number }, []>('SELECT MAX((SELECT next FROM emoji_ids), COALESCE((SELECT MAX(id) + 1 FROM emojis), 0)) AS next'),
      advance: db.prepare('UPDATE emoji_ids SET next = ?'),
      insert: db.prepare('INSERT INTO emojis (id, name, file_name) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE emojis SET name = ?, file_name = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM emojis WHERE id = ?'),
    }
  }

  async list() {
    return this.q.list.all().map(toRecord)
  }

  async get(id: string) {
    const key = numericId(id)
    const row = key === undefined ? null : this.q.get.get(key)
    return row ? toRecord(row) : undefined
  }

  async getByName(name: string) {
    const row = this.q.byName.get(name)
    return row ? toRecord(row) : undefined
  }

  async getByFileName(name: string) {
    const row = this.q.byFileName.get(name)
    return row ? toRecord(row) : undefined
  }

  async insert(name: string, extension: string, maxCount: number, place: (record: EmojiRecord) => void) {
    return this.db.transaction((): EmojiRecord | 'taken' | 'full' => {
      if (this.q.nameTaken.get(name, -1)) return 'taken'
      if (this.q.count.get()!.n >= maxCount) return 'full'
      const id = this.q.next.get()!.next
      const record = { id: String(id), name, fileName: fileName(id, extension) }
      this.q.insert.run(id, name, record.fileName)
      this.q.advance.run(id + 1)
      place(record)
      return record
    })()
  }

  async update(id: string, changes: { name?: string; extension?: string }, place: (record: EmojiRecord) => void) {
    const key = numericId(id)
    if (key === undefined) return 'missing' as const
    return this.db.transaction(() => {
      const row = this.q.get.get(key)
      if (!row) return 'missing' as const
      if (changes.name !== undefined && this.q.nameTaken.get(changes.name, key)) return 'taken' as const
      const before = toRecord(row)
      const after = {
        ...before,
        name: changes.name ?? before.name,
        fileName: changes.extension === undefined ? before.fileName : fileName(key, changes.extension),
      }
      this.q.update.run(after.name, after.fileName, key)
      place(after)
      return { before, after }
    })()
  }

  async delete(id: string) {
    const key = numericId(id)
    if (key === undefined) return undefined
    return this.db.transaction(() => {
      const row = this.q.get.get(key)
      if (row) this.q.delete.run(key)
      return row ? toRecord(row) : undefined
    })()
  }

  async importOne(record: EmojiRecord, place: (record: EmojiRecord) => void) {
    const key = numericId(record.id)
    if (key === undefined) return false
    return this.db.transaction(() => {
      if (this.q.get.get(key) || this.q.nameTaken.get(record.name, -1) || this.q.byFileName.get(record.fileName)) return false
      this.q.insert.run(key, record.name, record.fileName)
      this.q.advance.run(Math.max(this.q.next.get()!.next, key + 1))
      place(record)
      return true
    })()
  }
}

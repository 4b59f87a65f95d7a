import { SQL } from 'bun'

export type Param = string | number | boolean | null | readonly (string | number | boolean | null)[]
export type Row = Record<string, unknown>

/** What repositories run statements through: the pool, or one transaction's connection. */
export interface Queries {
  all<T = Row>(text: string, params?: Param[]): Promise<T[]>
  one<T = Row>(text: string, params?: Param[]): Promise<T | undefined>
  /** The number of rows the statement wrote. */
  run(text: string, params?: Param[]): Promise<number>
}

/** SQLSTATEs of a connection the server ended (restart, failover, admin shutdown). */
const STALE_CONNECTION_STATES = new Set(['57P01', '57P02', '08000', '08003', '08006'])
const STALE_CONNECTION_CODES = new Set(['ERR_POSTGRES_CONNECTION_CLOSED', 'ERR_POSTGRES_CONNECTION_TIMEOUT'])

/**
 * After a server restart, each pooled connection still looks open until its first statement
 * fails: those failures are retried, on another connection. Each failure discards one stale
 * connection, so a pool of `max` needs at most `max` retries before it reaches a fresh one. A
 * refused connection (the server is down) is not retried: the request fails at once.
 */
export function isStaleConnection(error: unknown): boolean {
  const e = error as { errno?: unknown; code?: unknown } | null
  return !!e && (STALE_CONNECTION_STATES.has(String(e.errno)) || STALE_CONNECTION_CODES.has(String(e.code)))
}

async function retrying<T>(retries: number, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (attempt >= retries || !isStaleConnection(error)) throw error
    }
  }
}

type Executor = Pick<SQL, 'unsafe'>

/**
 * PostgreSQL text cannot hold NUL, which clients may send (SQLite stores it). It is stored as
 * U+F0000 (a private-use character) and turned back on reading, in JSON documents (which can
 * only hold it inside strings) as the escape `\u0000`; a client's own U+F0000 therefore reads
 * back as NUL.
 */
const NUL_STAND_IN = '\u{F0000}'
const JSON_COLUMNS = new Set(['data', 'extra', 'details', 'options', 'avatar', 'reactions'])

function encode(param: Param): Param {
  if (typeof param === 'string') return param.includes('\u0000') ? param.replaceAll('\u0000', NUL_STAND_IN) : param
  return Array.isArray(param) ? param.map((item) => encode(item) as string | number | boolean | null) : param
}

function decode(row: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'string' && value.includes(NUL_STAND_IN)) row[key] = value.replaceAll(NUL_STAND_IN, JSON_COLUMNS.has(key) ? '\\u0000' : '\u0000')
  }
  return row
}

class Statements implements Queries {
  constructor(
    private readonly executor: Executor,
    /** How often a statement that met a stale connection runs again; 0 inside a transaction. */
    private readonly retries: number,
  ) {}

  private exec(text: string, params: Param[]) {
    // Without parameters the simple protocol runs, which takes several statements (migrations).
    const work = () => (params.length > 0 ? this.executor.unsafe(text, params.map(encode) as unknown[]) : this.executor.unsafe(text)) as Promise<unknown[] & { count: number }>
    return retrying(this.retries, work)
  }

  async all<T>(text: string, params: Param[] = []) {
    return (await this.exec(text, params)).map((row) => decode(row as Record<string, unknown>)) as T[]
  }

  async one<T>(text: string, params: Param[] = []) {
    const row = (await this.exec(text, params))[0]
    return (row === undefined ? undefined : decode(row as Record<string, unknown>)) as T | undefined
  }

  async run(text: string, params: Param[] = []) {
    return (await this.exec(text, params)).count
  }
}

/** The connection pool: statements, transactions, and closing. */
export class Database extends Statements {
  constructor(
    readonly sql: SQL,
    private readonly poolSize: number,
  ) {
    super(sql, poolSize)
  }

  /**
   * Runs `work` in one transaction, committed when it resolves. A transaction that failed on a
   * stale connection never committed, so it is run again from the start on a fresh one.
   */
  transaction<T>(work: (tx: Queries) => Promise<T>): Promise<T> {
    return retrying(this.poolSize, () => this.sql.begin((tx) => work(new Statements(tx, 0))) as Promise<T>)
  }

  close() {
    return this.sql.close()
  }
}

export interface ConnectOptions {
  /** postgres://user:password@host:port/database */
  url: string
  /** Schema for every table (`search_path`, with `public` after it for extensions); default: the server's. */
  schema?: string
  /** Pool size. */
  max?: number
  /** Shown in pg_stat_activity, so an operator can tell the nodes' connections apart. */
  applicationName?: string
}

export function connect({ url, schema, max = 10, applicationName = 'originchats' }: ConnectOptions): Database {
  const connection: Record<string, string> = { application_name: applicationName }
  if (schema) connection.search_path = `"${schema.replaceAll('"', '""')}", public`
  return new Database(new SQL(url, { max, connection }), max)
}

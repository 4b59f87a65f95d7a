import type { RedisConnection } from './connection.ts'

/**
 * A Lua script run by EVALSHA, loaded again by EVAL when Redis does not know it (after a
 * restart, Redis has no scripts).
 */
export class Script {
  private readonly sha: string

  constructor(private readonly source: string) {
    this.sha = new Bun.CryptoHasher('sha1').update(source).digest('hex')
  }

  async run(redis: RedisConnection, keys: string[], args: string[]): Promise<any> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await redis.send('EVALSHA', [this.sha, ...tail])
    } catch (error) {
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
      return redis.send('EVAL', [this.source, ...tail])
    }
  }
}

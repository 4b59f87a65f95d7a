import type { PushRepo, PushSubscriptionRecord } from '../types.ts'
import type { Database } from './db.ts'

const COLUMNS = 'user_id, endpoint, p256dh, auth, device_fingerprint, last_used'

export class PostgresPush implements PushRepo {
  constructor(private readonly db: Database) {}

  async save(s: PushSubscriptionRecord, maxPerUser: number) {
    await this.db.transaction(async (tx) => {
      if (s.device_fingerprint !== null) await tx.run('DELETE FROM push_subscriptions WHERE user_id = $1 AND device_fingerprint = $2', [s.user_id, s.device_fingerprint])
      await tx.run('DELETE FROM push_subscriptions WHERE endpoint = $1', [s.endpoint])
      await tx.run(`INSERT INTO push_subscriptions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [s.user_id, s.endpoint, s.p256dh, s.auth, s.device_fingerprint, s.last_used])
      await tx.run(
        `DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint NOT IN
           (SELECT endpoint FROM push_subscriptions WHERE user_id = $1 ORDER BY last_used DESC, seq DESC LIMIT $2)`,
        [s.user_id, maxPerUser],
      )
    })
  }

  async remove(userId: string, endpoint: string) {
    return (await this.db.run('DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2', [userId, endpoint])) > 0
  }

  async removeEndpoint(endpoint: string) {
    await this.db.run('DELETE FROM push_subscriptions WHERE endpoint = $1', [endpoint])
  }

  async listByUser(userId: string) {
    return this.db.all<PushSubscriptionRecord>(`SELECT ${COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY seq`, [userId])
  }

  async touch(endpoint: string, at: number) {
    await this.db.run('UPDATE push_subscriptions SET last_used = $1 WHERE endpoint = $2', [at, endpoint])
  }

  async touchDevice(userId: string, fingerprint: string, at: number) {
    await this.db.run('UPDATE push_subscriptions SET last_used = $1 WHERE user_id = $2 AND device_fingerprint = $3', [at, userId, fingerprint])
  }

  async purge(cutoff: number) {
    return this.db.run('DELETE FROM push_subscriptions WHERE last_used < $1', [cutoff])
  }

  async count() {
    return Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM push_subscriptions'))!.n)
  }

  async importMany(subscriptions: PushSubscriptionRecord[]) {
    let added = 0
    for (const s of subscriptions) {
      added += await this.db.run(
        `INSERT INTO push_subscriptions (${COLUMNS}) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) ON CONFLICT DO NOTHING`,
        [s.user_id, s.endpoint, s.p256dh, s.auth, s.device_fingerprint, s.last_used],
      )
    }
    return added
  }
}

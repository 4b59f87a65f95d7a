import type { Database } from 'bun:sqlite'
import type { PushRepo, PushSubscriptionRecord } from '../types.ts'

const COLUMNS = 'user_id, endpoint, p256dh, auth, device_fingerprint, last_used'

export class SqlitePush implements PushRepo {
  private readonly q
  private readonly saveAll

  constructor(db: Database) {
    this.q = {
      deleteDevice: db.prepare('DELETE FROM push_subscriptions WHERE user_id = ? AND device_fingerprint = ?'),
      deleteEndpoint: db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ?'),
      deleteOwned: db.prepare('DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?'),
      insert: db.prepare(`INSERT INTO push_subscriptions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`),
      insertNew: db.prepare(
        `INSERT INTO push_subscriptions (${COLUMNS}) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1) ON CONFLICT DO NOTHING`,
      ),
      trim: db.prepare(
        `DELETE FROM push_subscriptions WHERE user_id = ?1 AND endpoint NOT IN
           (SELECT endpoint FROM push_subscriptions WHERE user_id = ?1 ORDER BY last_used DESC, rowid DESC LIMIT ?2)`,
      ),
      byUser: db.query<PushSubscriptionRecord, [string]>(`SELECT ${COLUMNS} FROM push_subscriptions WHERE user_id = ? ORDER BY rowid`),
      touch: db.prepare('UPDATE push_subscriptions SET last_used = ? WHERE endpoint = ?'),
      touchDevice: db.prepare('UPDATE push_subscriptions SET last_used = ? WHERE user_id = ? AND device_fingerprint = ?'),
      purge: db.prepare('DELETE FROM push_subscriptions WHERE last_used < ?'),
      count: db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM push_subscriptions'),
    }
    this.saveAll = db.transaction((s: PushSubscriptionRecord, max: number) => {
      if (s.device_fingerprint !== null) this.q.deleteDevice.run(s.user_id, s.device_fingerprint)
      this.q.deleteEndpoint.run(s.endpoint)
      this.q.insert.run(s.user_id, s.endpoint, s.p256dh, s.auth, s.device_fingerprint, s.last_used)
      this.q.trim.run(s.user_id, max)
    })
  }

  async save(subscription: PushSubscriptionRecord, maxPerUser: number) {
    this.saveAll(subscription, maxPerUser)
  }

  async remove(userId: string, endpoint: string) {
    return this.q.deleteOwned.run(userId, endpoint).changes > 0
  }

  async removeEndpoint(endpoint: string) {
    this.q.deleteEndpoint.run(endpoint)
  }

  async listByUser(userId: string) {
    return this.q.byUser.all(userId)
  }

  async touch(endpoint: string, at: number) {
    this.q.touch.run(at, endpoint)
  }

  async touchDevice(userId: string, fingerprint: string, at: number) {
    this.q.touchDevice.run(at, userId, fingerprint)
  }

  async purge(cutoff: number) {
    return this.q.purge.run(cutoff).changes
  }

  async count() {
    return this.q.count.get()!.n
  }

  async importMany(subscriptions: PushSubscriptionRecord[]) {
    let added = 0
    for (const s of subscriptions) {
      added += this.q.insertNew.run(s.user_id, s.endpoint, s.p256dh, s.auth, s.device_fingerprint, s.last_used).changes
    }
    return added
  }
}

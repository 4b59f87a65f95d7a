import type { Config } from '../config/schema.ts'
import type { Logger } from '../log.ts'
import type { PushSubscriptionRecord, Store } from '../store/types.ts'
import { deviceFingerprint, type DeviceInfo } from './fingerprint.ts'
import type { VapidKeys } from './keys.ts'
import { sendPush, type PushOutcome, type PushTarget } from './send.ts'
import { notifications, type PushJob } from './targets.ts'

/** Subscriptions unused this long are deleted (data.md §13: 6 × 30 days). */
export const UNUSED_LIFETIME_SECONDS = 180 * 86_400
const PURGE_INTERVAL_MS = 86_400_000

export interface PushDeps {
  store: Store
  keys: VapidKeys
  fingerprintSecret: string
  settings: () => Config['push']
  isOnline: (userId: string) => boolean
  log: Logger
  /** Sends one push; replaced in tests of the queue alone. */
  send?: (target: PushTarget, payload: string, keys: VapidKeys, timeoutMs: number, signal: AbortSignal) => Promise<PushOutcome>
}

interface Delivery {
  subscription: PushSubscriptionRecord
  payload: string
}

const now = () => Math.floor(Date.now() / 1000)

/**
 * Web Push beside the message path: `notify` only queues (it never waits), targets are worked
 * out one message at a time, and pushes go out `concurrency` at a time, each bounded by
 * `timeout_ms`. Both queues hold at most `queue_size` entries, the oldest dropped when full, so
 * a slow or dead push service costs memory and time here, never a delay in message delivery.
 */
export class PushService {
  private readonly jobs: PushJob[] = []
  private readonly deliveries: Delivery[] = []
  private readonly inFlight = new Set<Promise<void>>()
  private expanding = false
  private stopped = false
  private readonly abort = new AbortController()
  private purgeTimer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly deps: PushDeps) {}

  /** Purges unused subscriptions now and daily. */
  start() {
    void this.purge()
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS)
  }

  /** The key clients subscribe with; undefined when push is turned off. */
  publicKey(): string | undefined {
    return this.deps.settings().enabled ? this.deps.keys.publicKey : undefined
  }

  /** One subscription per device and user; null when the connection told nothing about its device. */
  fingerprint(device: DeviceInfo | undefined): string | null {
    return device ? deviceFingerprint(this.deps.fingerprintSecret, device) : null
  }

  /** A sign-in keeps this device's subscription alive (protocol README §2.4); never waited for. */
  /** Resolves once the subscription is marked (never rejects), so a login can complete after it on any store. */
  async signedIn(userId: string, device: DeviceInfo | undefined): Promise<void> {
    const fingerprint = this.fingerprint(device)
    if (fingerprint === null || this.stopped) return
    await this.deps.store.push.touchDevice(userId, fingerprint, now()).catch((error) => this.deps.log.error(`push: marking a subscription used failed: ${error?.stack ?? error}`))
  }

  notify(job: PushJob): void {
    if (this.stopped || !this.deps.settings().enabled) return
    this.bounded(this.jobs, job, 'message')
    void this.expand()
  }

  /** Deletes subscriptions unused for 180 days (at startup, then daily). */
  async purge(): Promise<number> {
    try {
      const purged = await this.deps.store.push.purge(now() - UNUSED_LIFETIME_SECONDS)
      if (purged > 0) this.deps.log.info(`push: deleted ${purged} subscription(s) unused for 180 days`)
      return purged
    } catch (error) {
      this.deps.log.error(`push: purging subscriptions failed: ${(error as Error)?.stack ?? error}`)
      return 0
    }
  }

  /** Drops what is queued, aborts pushes in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.purgeTimer)
    this.jobs.length = 0
    this.deliveries.length = 0
    this.abort.abort()
    await Promise.all([...this.inFlight])
  }

  private bounded<T>(queue: T[], item: T, what: string) {
    queue.push(item)
    if (queue.length <= this.deps.settings().queue_size) return
    queue.shift()
    this.deps.log.warn(`push: queue full, dropped the oldest ${what}`)
  }

  /** Works out each queued message's pushes, one message at a time. */
  private async expand() {
    if (this.expanding) return
    this.expanding = true
    try {
      for (let job = this.jobs.shift(); job && !this.stopped; job = this.jobs.shift()) {
        try {
          await this.expandJob(job)
        } catch (error) {
          this.deps.log.error(`push: working out notifications failed: ${(error as Error)?.stack ?? error}`)
        }
      }
    } finally {
      this.expanding = false
    }
  }

  private async expandJob(job: PushJob) {
    const { store, isOnline } = this.deps
    for (const { userId, payload } of await notifications(job, store.users, this.deps.settings(), isOnline)) {
      for (const subscription of await store.push.listByUser(userId)) {
        if (this.stopped) return
        this.bounded(this.deliveries, { subscription, payload }, 'push')
      }
    }
    this.pump()
  }

  private pump() {
    while (!this.stopped && this.inFlight.size < this.deps.settings().concurrency && this.deliveries.length > 0) {
      const delivery = this.deliveries.shift()!
      const running: Promise<void> = this.deliver(delivery).finally(() => {
        this.inFlight.delete(running)
        this.pump()
      })
      this.inFlight.add(running)
    }
  }

  private async deliver({ subscription, payload }: Delivery) {
    const { store, keys, log } = this.deps
    const send = this.deps.send ?? sendPush
    try {
      const { status } = await send(subscription, payload, keys, this.deps.settings().timeout_ms, this.abort.signal)
      if (this.stopped) return
      if (status === 404 || status === 410) {
        await store.push.removeEndpoint(subscription.endpoint)
        log.info(`push: subscription of ${subscription.user_id} is gone (${status}), deleted`)
      } else if (status >= 200 && status < 300) {
        await store.push.touch(subscription.endpoint, now())
      } else {
        log.warn(`push: ${new URL(subscription.endpoint).host} answered ${status || 'nothing'} for ${subscription.user_id}`)
      }
    } catch (error) {
      log.error(`push: sending failed: ${(error as Error)?.stack ?? error}`)
    }
  }
}

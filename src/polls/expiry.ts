import type { Logger } from '../log.ts'
import { topics } from '../net/topics.ts'
import type { Packet } from '../protocol/errors.ts'
import type { Store } from '../store/types.ts'
import { pollEndPacket } from '../views/poll.ts'

/** The longest wait setTimeout honours; a later end time is reached in steps of this. */
export const MAX_WAIT_MS = 2 ** 31 - 1
/** Polls ended per pass; a longer backlog continues on a later turn of the event loop. */
const BATCH = 100
/** After the database failed, the next attempt waits this long instead of spinning. */
const RETRY_MS = 60_000

export interface Alarm {
  cancel(): void
}

/** Calls `fire` once after `ms`; the default is an unref'd setTimeout, so it never keeps the process alive. */
export type SetAlarm = (fire: () => void, ms: number) => Alarm

const timeoutAlarm: SetAlarm = (fire, ms) => {
  const timer = setTimeout(fire, ms)
  timer.unref()
  return { cancel: () => clearTimeout(timer) }
}

export interface PollExpiryDeps {
  store: Store
  /** Delivers a packet to a topic's subscribers. */
  publish(topic: string, packet: Packet): void
  log: Logger
  /** Unix seconds. */
  now?: () => number
  setAlarm?: SetAlarm
}

/**
 * Ends polls at their `expires_at`. The end times live in the store, not in timers: one alarm
 * waits for the earliest open poll's end, and every pass asks the store again, so a restart
 * loses nothing (polls that ended while the server was down end at start-up). The store ends a
 * poll only once, so a poll ended by hand meanwhile is not announced again.
 */
export class PollExpiry {
  private alarm: Alarm | undefined
  private work: Promise<void> = Promise.resolve()
  private stopped = false
  private readonly now: () => number
  private readonly setAlarm: SetAlarm

  constructor(private readonly deps: PollExpiryDeps) {
    this.now = deps.now ?? (() => Date.now() / 1000)
    this.setAlarm = deps.setAlarm ?? timeoutAlarm
  }

  /** Ends the polls whose time has passed, then waits for the next one. */
  start(): void {
    this.enqueue(() => this.pass())
  }

  /** A poll was created or ended: the earliest end time may have moved. */
  changed(): void {
    this.enqueue(() => this.arm())
  }

  /** Resolves once no pass is running; nothing fires afterwards. */
  async stop(): Promise<void> {
    this.stopped = true
    this.alarm?.cancel()
    this.alarm = undefined
    await this.work
  }

  /** One step at a time, so a pass never overlaps another pass or an arming. */
  private enqueue(step: () => Promise<void>) {
    if (this.stopped) return
    this.work = this.work.then(() => (this.stopped ? undefined : step()))
  }

  private async pass() {
    try {
      await this.endDue()
    } catch (error) {
      this.deps.log.error(`ending expired polls failed: ${(error as Error)?.stack ?? error}`)
      return this.wait(RETRY_MS)
    }
    await this.arm()
  }

  private async endDue() {
    const { store, publish } = this.deps
    for (const poll of await store.polls.listDue(this.now(), BATCH)) {
      // Ended at its end time, however late the server noticed: no vote was taken after it.
      const ended = await store.polls.end(poll.id, poll.expires_at!)
      if (ended) publish(topics.channel(ended.channel), await pollEndPacket(store, ended))
    }
  }

  private async arm() {
    let next: number | undefined
    try {
      next = await this.deps.store.polls.nextExpiry()
    } catch (error) {
      this.deps.log.error(`reading poll end times failed: ${(error as Error)?.stack ?? error}`)
      return this.wait(RETRY_MS)
    }
    if (next === undefined) {
      this.alarm?.cancel()
      this.alarm = undefined
      return
    }
    this.wait(Math.min(MAX_WAIT_MS, Math.max(0, Math.ceil((next - this.now()) * 1000))))
  }

  private wait(ms: number) {
    this.alarm?.cancel()
    this.alarm = this.stopped
      ? undefined
      : this.setAlarm(() => {
          this.alarm = undefined
          this.enqueue(() => this.pass())
        }, ms)
  }
}

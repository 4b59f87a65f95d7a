import { type AddressCounter, AddressLimiter } from './address-limit.ts'

export interface LoginThrottleSettings {
  /** Failures per client address and account. */
  auth_failures_per_minute: number
  /** Failures per client address, whatever the account. */
  auth_failures_per_address_per_minute: number
}

/**
 * Failed sign-ins: strict per (address, account), loose per address. Once an account is
 * throttled for an address, further attempts on it are refused before any password is checked
 * and no longer count against the address, so a flood on one account does not lock out the
 * other people behind the same address (a NAT, a proxy).
 */
export class LoginThrottle {
  private readonly perAccount: AddressCounter
  private readonly perAddress: AddressCounter

  /** `counter` makes the two windows (in memory unless a cluster shares them); `name` tells them apart. */
  constructor(
    settings: () => LoginThrottleSettings,
    counter: (limit: () => number, windowMs: number, name: string) => AddressCounter = (limit, windowMs) => new AddressLimiter(limit, windowMs),
  ) {
    this.perAccount = counter(() => settings().auth_failures_per_minute, 60_000, 'failures-account')
    this.perAddress = counter(() => settings().auth_failures_per_address_per_minute, 60_000, 'failures-address')
  }

  /** Seconds until `account` may be tried from `address` again; 0 when it may be now. */
  retryAfter(address: string, account?: string, now = Date.now()): number | Promise<number> {
    const forAccount = account === undefined ? 0 : this.perAccount.retryAfter(key(address, account), now)
    const forAddress = this.perAddress.retryAfter(address, now)
    if (typeof forAccount === 'number' && typeof forAddress === 'number') return Math.max(forAccount, forAddress)
    return Promise.all([forAccount, forAddress]).then(([a, b]) => Math.max(a, b))
  }

  /** Counts a failure; without an account (a name probe) only against the address. */
  record(address: string, account?: string, now = Date.now()): void | Promise<void> {
    const counted = [account === undefined ? undefined : this.perAccount.record(key(address, account), now), this.perAddress.record(address, now)]
    if (counted.some((result) => result instanceof Promise)) return Promise.all(counted).then(() => {})
  }
}

const key = (address: string, account: string) => `${address}\n${account}`

import { AddressLimiter } from './address-limit.ts'

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
  private readonly perAccount: AddressLimiter
  private readonly perAddress: AddressLimiter

  constructor(settings: () => LoginThrottleSettings) {
    this.perAccount = new AddressLimiter(() => settings().auth_failures_per_minute, 60_000)
    this.perAddress = new AddressLimiter(() => settings().auth_failures_per_address_per_minute, 60_000)
  }

  /** Seconds until `account` may be tried from `address` again; 0 when it may be now. */
  retryAfter(address: string, account?: string, now = Date.now()): number {
    const forAccount = account === undefined ? 0 : this.perAccount.retryAfter(key(address, account), now)
    return Math.max(forAccount, this.perAddress.retryAfter(address, now))
  }

  /** Counts a failure; without an account (a name probe) only against the address. */
  record(address: string, account?: string, now = Date.now()) {
    if (account !== undefined) this.perAccount.record(key(address, account), now)
    this.perAddress.record(address, now)
  }
}

const key = (address: string, account: string) => `${address}\n${account}`

import { expect, test } from 'bun:test'
import { LoginThrottle } from '../../src/auth/login-throttle.ts'

const throttle = () => new LoginThrottle(() => ({ auth_failures_per_minute: 3, auth_failures_per_address_per_minute: 5 }))
const T0 = 1_000_000

test('an account is throttled per address after its own limit; other accounts and addresses are not', () => {
  const limits = throttle()
  for (let i = 0; i < 3; i++) limits.record('1.1.1.1', 'alice', T0)
  expect(limits.retryAfter('1.1.1.1', 'alice', T0)).toBe(60)
  expect(limits.retryAfter('1.1.1.1', 'bob', T0)).toBe(0)
  expect(limits.retryAfter('2.2.2.2', 'alice', T0)).toBe(0)
  expect(limits.retryAfter('1.1.1.1', 'alice', T0 + 60_000)).toBe(0)
})

test('the address limit covers every account and name probes', () => {
  const limits = throttle()
  limits.record('1.1.1.1', 'alice', T0)
  limits.record('1.1.1.1', 'bob', T0)
  limits.record('1.1.1.1', 'carol', T0)
  limits.record('1.1.1.1', undefined, T0)
  expect(limits.retryAfter('1.1.1.1', 'dave', T0)).toBe(0)
  limits.record('1.1.1.1', undefined, T0 + 30_000)
  expect(limits.retryAfter('1.1.1.1', 'dave', T0 + 30_000)).toBe(30)
  expect(limits.retryAfter('1.1.1.1', undefined, T0 + 30_000)).toBe(30)
})

import { expect, test } from 'bun:test'
import { normalizeName, skeleton, usernameError } from '../../src/auth/names.ts'

test('look-alikes share a skeleton: other scripts, I for l, digits for letters, fullwidth, accents, rn for m', () => {
  const same: Array<[string, string]> = [
    ['admin', 'аdmin'],
    ['alice', 'AIice'],
    ['paypal', 'paypa1'],
    ['bob', 'Ｂｏｂ'],
    ['jose', 'josé'],
    ['modern', 'rnodern'],
    ['owner', 'οwner'],
  ]
  for (const [a, b] of same) expect(skeleton(b)).toBe(skeleton(a))
})

test('different names keep different skeletons', () => {
  for (const [a, b] of [['alice', 'alicia'], ['bob', 'rob'], ['ann', 'anne'], ['x_y', 'x-y']]) expect(skeleton(a)).not.toBe(skeleton(b))
})

test('names are stored NFKC-normalised and trimmed', () => {
  expect(normalizeName('  Ｂｏｂ ')).toBe('Bob')
  expect(normalizeName('ﬁsh')).toBe('fish')
})

test('usernames: 1 to 64 characters, nothing invisible, no spaces', () => {
  expect(usernameError('alice')).toBeUndefined()
  expect(usernameError('USR:local_alice')).toBeUndefined()
  expect(usernameError('ｘ'.repeat(64))).toBeUndefined()
  expect(usernameError('x'.repeat(65))).toBe('Username must be 1-64 characters')
  expect(usernameError('')).toBe('Username must be 1-64 characters')
  for (const bad of ['a b', 'a\tb', 'a\u0000b', 'a\u200Bb', 'a\u202Eb', 'a\u2028b', 'a\u00A0b']) {
    expect(usernameError(bad)).toBe('Username contains invalid characters')
  }
})

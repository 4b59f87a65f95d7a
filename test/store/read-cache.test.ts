import { expect, test } from 'bun:test'
import { ReadCache } from '../../src/store/postgres/read-cache.ts'

/** A cache on a clock the test moves, and a loader that counts its calls. */
function setup(ttlMs = 1000, maxEntries = 10) {
  let now = 0
  const cache = new ReadCache<string>(ttlMs, maxEntries, () => now)
  const loads: string[] = []
  const load = (key: string, value = `${key}@${now}`) => () => {
    loads.push(key)
    return Promise.resolve(value)
  }
  return { cache, loads, load, advance: (ms: number) => (now += ms) }
}

test('a read is loaded once, then served from memory until it expires', async () => {
  const { cache, loads, load, advance } = setup(1000)
  expect(await cache.read('a', load('a'))).toBe('a@0')
  advance(999)
  expect(await cache.read('a', load('a'))).toBe('a@0')
  advance(1)
  expect(await cache.read('a', load('a'))).toBe('a@1000')
  expect(loads).toEqual(['a', 'a'])
})

test('forget drops one key or every key', async () => {
  const { cache, loads, load } = setup()
  await cache.read('a', load('a'))
  await cache.read('b', load('b'))
  cache.forget('a')
  await cache.read('a', load('a'))
  await cache.read('b', load('b'))
  expect(loads).toEqual(['a', 'b', 'a'])
  cache.forget()
  await cache.read('a', load('a'))
  await cache.read('b', load('b'))
  expect(loads).toEqual(['a', 'b', 'a', 'a', 'b'])
})

test('a read that was on its way when a write was forgotten is answered but not kept', async () => {
  const { cache, loads, load } = setup()
  const pending = Promise.withResolvers<string>()
  const stale = cache.read('a', () => pending.promise)
  cache.forget('b')
  pending.resolve('before the write')
  expect(await stale).toBe('before the write')
  expect(await cache.read('a', load('a', 'after the write'))).toBe('after the write')
  expect(loads).toEqual(['a'])
})

test('at most maxEntries are kept: the oldest goes first', async () => {
  const { cache, loads, load } = setup(1000, 2)
  await cache.read('a', load('a'))
  await cache.read('b', load('b'))
  await cache.read('c', load('c'))
  await cache.read('b', load('b'))
  await cache.read('a', load('a'))
  expect(loads).toEqual(['a', 'b', 'c', 'a'])
})

import { expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../src/config/load.ts'
import { configuredStore, storageUrl } from '../../src/store/open.ts'
import { POSTGRES_TEST_URL, freshSchema, storeDrivers } from '../helpers/stores.ts'

const silent = { info() {} }

test('the database URL: ORIGINCHATS_STORAGE_URL, else storage.url, else DATABASE_URL', () => {
  const withUrl = parseConfig({ storage: { driver: 'postgres', url: 'postgres://config/db' } })
  const without = parseConfig({ storage: { driver: 'postgres' } })
  expect(storageUrl(withUrl, { ORIGINCHATS_STORAGE_URL: 'postgres://env/db', DATABASE_URL: 'postgres://platform/db' })).toBe('postgres://env/db')
  expect(storageUrl(withUrl, { DATABASE_URL: 'postgres://platform/db' })).toBe('postgres://config/db')
  expect(storageUrl(without, { DATABASE_URL: 'postgres://platform/db' })).toBe('postgres://platform/db')
  expect(storageUrl(without, {})).toBe('')
})

test('sqlite, the default, is left to createApp; postgres without a URL is a configuration error', async () => {
  expect(parseConfig({}).storage).toMatchObject({ driver: 'sqlite', url: '' })
  expect(await configuredStore(parseConfig({}), silent, {})).toBeUndefined()
  const opening = configuredStore(parseConfig({ storage: { driver: 'postgres' } }), silent, {})
  expect(opening).rejects.toBeInstanceOf(ConfigError)
  await expect(opening).rejects.toThrow('storage.driver is "postgres" but no database URL is set: set storage.url or ORIGINCHATS_STORAGE_URL')
  expect(() => parseConfig({ storage: { driver: 'mysql' } })).toThrow()
})

test.skipIf(storeDrivers.find((d) => d.name === 'postgres')!.skip !== undefined)('storage.driver "postgres" opens the database the URL names', async () => {
  const { schema, drop } = await freshSchema()
  const url = `${POSTGRES_TEST_URL}${POSTGRES_TEST_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`
  const store = (await configuredStore(parseConfig({ storage: { driver: 'postgres' } }), silent, { ORIGINCHATS_STORAGE_URL: url }))?.()
  try {
    expect(await store!.roles.count()).toBe(4)
  } finally {
    await store?.close()
    await drop()
  }
})

test('an unreachable database stops the start with one line naming it, password hidden', async () => {
  const url = 'postgres://chat:secret@127.0.0.1:1/chat'
  const opening = configuredStore(parseConfig({ storage: { driver: 'postgres' } }), silent, { ORIGINCHATS_STORAGE_URL: url })
  await expect(opening).rejects.toThrow('cannot use the PostgreSQL database postgres://chat:***@127.0.0.1:1/chat: ')
})

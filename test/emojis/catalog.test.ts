import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmojiCatalog } from '../../src/emojis/catalog.ts'
import { createSqliteStore } from '../../src/store/sqlite/index.ts'
import type { Store } from '../../src/store/types.ts'
import { GIF, PNG } from '../helpers/images.ts'

let folder = ''
let store: Store
let catalog: EmojiCatalog
const png = { bytes: new Uint8Array(PNG), format: 'png' as const }
const gif = { bytes: new Uint8Array(GIF), format: 'gif' as const }

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'originchats-emoji-catalog-'))
  store = createSqliteStore(':memory:')
  catalog = new EmojiCatalog(store.emojis, join(folder, 'emojis'))
})

afterEach(async () => {
  store.close()
  await rm(folder, { recursive: true, force: true })
})

describe('EmojiCatalog', () => {
  test('a rename that fails stores nothing, leaves no file, and uses up no ID', async () => {
    // A directory where the file should go makes the rename fail.
    mkdirSync(join(folder, 'emojis', '0.png', 'blocker'), { recursive: true })
    await expect(catalog.add('wave', png, 10)).rejects.toThrow()
    expect(await store.emojis.list()).toEqual([])
    expect(readdirSync(join(folder, 'emojis'))).toEqual(['0.png'])
    await rm(join(folder, 'emojis', '0.png'), { recursive: true })
    expect(await catalog.add('wave', png, 10)).toEqual({ id: '0', name: 'wave', fileName: '0.png' })
  })

  test('an update whose rename fails keeps the old name, file and record', async () => {
    await catalog.add('wave', png, 10)
    mkdirSync(join(folder, 'emojis', '0.gif', 'blocker'), { recursive: true })
    await expect(catalog.update('0', { name: 'renamed', image: gif })).rejects.toThrow()
    expect(await store.emojis.list()).toEqual([{ id: '0', name: 'wave', fileName: '0.png' }])
    expect(existsSync(join(folder, 'emojis', '0.png'))).toBe(true)
  })

  test('IDs continue past deleted and imported ones', async () => {
    await catalog.add('a', png, 10)
    await catalog.add('b', png, 10)
    await catalog.delete('1')
    expect(await catalog.add('c', png, 10)).toMatchObject({ id: '2' })
    expect(await catalog.importOne({ id: '40', name: 'imported', fileName: '40.gif' }, gif.bytes)).toBe(true)
    expect(await catalog.importOne({ id: '41', name: 'IMPORTED', fileName: '41.gif' }, gif.bytes)).toBe(false)
    expect(await catalog.add('d', png, 10)).toMatchObject({ id: '41' })
    expect(readdirSync(join(folder, 'emojis')).sort()).toEqual(['0.png', '2.png', '40.gif', '41.png'])
  })

  test('names are unique case-insensitively, also on update, except for the emoji itself', async () => {
    await catalog.add('wave', png, 10)
    await catalog.add('smile', png, 10)
    expect(await catalog.add('WAVE', png, 10)).toBe('taken')
    expect(await catalog.update('1', { name: 'Wave' })).toBe('taken')
    expect(await catalog.update('0', { name: 'WAVE' })).toMatchObject({ after: { name: 'WAVE' } })
    expect(await catalog.update('7', { name: 'x' })).toBe('missing')
    expect(await catalog.update('0x', { name: 'x' })).toBe('missing')
    expect(readdirSync(join(folder, 'emojis')).sort()).toEqual(['0.png', '1.png'])
  })
})

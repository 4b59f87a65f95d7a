import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { TestClient } from '../helpers/client.ts'
import { GIF, HTML, JPEG, PNG, WEBP, dataUri } from '../helpers/images.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const error = (src: string, val: string) => ({ cmd: 'error', src, val })
const ADD_FAILED = error('emoji_add', 'Error adding emoji')
const emojiDir = (server: TestServer) => join(server.dir, 'emojis')
/** The stored emoji files (a cluster's nodes also leave hidden marker files there). */
const emojiFiles = (server: TestServer) => readdirSync(emojiDir(server)).filter((name) => !name.startsWith('.originchats-node-'))
const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href

async function add(client: TestClient, name: string, image = dataUri(PNG)) {
  return client.request({ cmd: 'emoji_add', name, image })
}

describe('emoji_add', () => {
  test.concurrent('stores the image as <id>.<format>, replies with id, name and fileName, and tells every signed-in client', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob = await server.login('bob')
    const seen = bob.next('emoji_add')

    expect(await add(owner, '  wave ')).toEqual({ cmd: 'emoji_add', id: '0', added: true, name: 'wave', fileName: '0.png' })
    expect(await seen).toEqual({ cmd: 'emoji_add', id: '0', added: true, name: 'wave', fileName: '0.png' })
    expect(await add(owner, 'party', dataUri(GIF, 'gif'))).toMatchObject({ id: '1', fileName: '1.gif' })
    expect(await add(owner, 'photo', dataUri(JPEG, 'jpeg'))).toMatchObject({ id: '2', fileName: '2.jpeg' })
    expect(await bob.request({ cmd: 'emoji_get_all' })).toEqual({
      cmd: 'emoji_get_all',
      emojis: { '0': { name: 'wave', fileName: '0.png' }, '1': { name: 'party', fileName: '1.gif' }, '2': { name: 'photo', fileName: '2.jpeg' } },
    })
    // Stored byte for byte, with no temporary file left behind.
    expect(emojiFiles(server).sort()).toEqual(['0.png', '1.gif', '2.jpeg'])
    expect(Buffer.from(await Bun.file(join(emojiDir(server), '1.gif')).arrayBuffer())).toEqual(GIF)

    const log = await owner.request({ cmd: 'modlog_get', action: 'emoji_add' })
    expect(log.entries.map((e: any) => [e.category, e.target_id, e.target_name, e.details])).toEqual([
      ['server_management', '2', 'photo', {}],
      ['server_management', '1', 'party', {}],
      ['server_management', '0', 'wave', {}],
    ])
  })

  test.concurrent('needs manage_server: a plain user is refused for add, update and delete, and nothing changes', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await add(owner, 'wave')
    const denied = (cmd: string) => error(cmd, "Access denied: 'manage_server' permission required")
    expect(await alice.error({ cmd: 'emoji_add', name: 'mine', image: dataUri(PNG) })).toEqual(denied('emoji_add'))
    expect(await alice.error({ cmd: 'emoji_update', emoji_id: 0, name: 'mine' })).toEqual(denied('emoji_update'))
    expect(await alice.error({ cmd: 'emoji_delete', emoji_id: 0 })).toEqual(denied('emoji_delete'))
    // The permission is checked before the schema, as upstream.
    expect(await alice.error({ cmd: 'emoji_add' })).toEqual(denied('emoji_add'))
    expect((await alice.request({ cmd: 'emoji_get_all' })).emojis).toEqual({ '0': { name: 'wave', fileName: '0.png' } })
  })

  test.concurrent('schema errors name the command', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    for (const packet of [{ cmd: 'emoji_add', name: 'x' }, { cmd: 'emoji_add', name: 5, image: 'x' }, { cmd: 'emoji_add', name: 'x', image: null }]) {
      const refused = await owner.error(packet)
      expect(refused.src).toBe('emoji_add')
      expect(refused.val).toStartWith('Invalid emoji_add command scheme: ')
    }
    expect((await owner.error({ cmd: 'emoji_delete', emoji_id: '0' })).val).toStartWith('Invalid emoji_delete command scheme: ')
    expect((await owner.error({ cmd: 'emoji_update', emoji_id: 1.5, name: 'x' })).val).toStartWith('Invalid emoji_update command scheme: ')
    expect((await owner.error({ cmd: 'emoji_get_id' })).val).toStartWith('Invalid emoji_get_id command scheme: ')
    expect((await owner.error({ cmd: 'emoji_get_filename', name: 3 })).val).toStartWith('Invalid emoji_get_filename command scheme: ')
  })

  test.concurrent('bad names, taken names (any case), broken base64, lying types, HTML and formats not allowed are all refused, leaving nothing behind', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await add(owner, 'wave')
    for (const name of ['a/b', '..', 'a\0b', 'a\u0001b', 'line\nbreak', 'x'.repeat(65), '', '   ', 'WAVE', 'Wave']) {
      expect(await owner.error({ cmd: 'emoji_add', name, image: dataUri(PNG) })).toEqual(ADD_FAILED)
    }
    for (const image of [
      'data:image/png;base64,@@@@',
      'data:image/png;base64,iVBORw0KGgo',
      `${dataUri(PNG)}\n`,
      'not a data uri',
      dataUri(PNG, 'gif'),
      dataUri(GIF, 'png'),
      dataUri(HTML, 'png'),
      dataUri(WEBP, 'webp'),
      `data:image/svg+xml;base64,${btoa('<svg/>')}`,
    ]) {
      expect(await owner.error({ cmd: 'emoji_add', name: 'fresh', image })).toEqual(ADD_FAILED)
    }
    expect(emojiFiles(server)).toEqual(['0.png'])
    expect(Object.keys((await owner.request({ cmd: 'emoji_get_all' })).emojis)).toEqual(['0'])
    // The server still answers normally afterwards.
    expect(await add(owner, 'fresh')).toMatchObject({ id: '1', added: true })
  })

  test.concurrent('webp is accepted once the config allows it', async () => {
    await using server = await startServer({ uploads: { emoji_allowed_file_types: ['.PNG', 'WebP'] } })
    const owner = await server.login('owner')
    expect(await add(owner, 'w', dataUri(WEBP, 'webp'))).toMatchObject({ id: '0', fileName: '0.webp' })
    expect(await owner.error({ cmd: 'emoji_add', name: 'g', image: dataUri(GIF, 'gif') })).toEqual(ADD_FAILED)
  })

  test.concurrent('uploads.emoji_max_size and emoji_max_count; IDs of deleted emojis are not reused', async () => {
    await using server = await startServer({ uploads: { emoji_max_size: PNG.length, emoji_max_count: 2 } })
    const owner = await server.login('owner')
    const big = Buffer.concat([PNG, Buffer.alloc(1)])
    expect(await owner.error({ cmd: 'emoji_add', name: 'big', image: dataUri(big) })).toEqual(ADD_FAILED)
    expect(await add(owner, 'one')).toMatchObject({ id: '0' })
    expect(await add(owner, 'two')).toMatchObject({ id: '1' })
    expect(await owner.error({ cmd: 'emoji_add', name: 'three', image: dataUri(PNG) })).toEqual(ADD_FAILED)
    expect(await owner.request({ cmd: 'emoji_delete', emoji_id: 1 })).toEqual({ cmd: 'emoji_delete', id: 1, deleted: true })
    expect(await add(owner, 'three')).toEqual({ cmd: 'emoji_add', id: '2', added: true, name: 'three', fileName: '2.png' })
  })
})

describe('emoji_update', () => {
  test.concurrent('renames, keeping the name unique except for itself; everyone hears of it', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob = await server.login('bob')
    await add(owner, 'wave')
    await add(owner, 'smile')
    bob.drain('emoji_add')
    const seen = bob.next('emoji_update')
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, name: ' hello ' })).toEqual({ cmd: 'emoji_update', id: 0, updated: true, name: 'hello', fileName: '0.png' })
    expect(await seen).toEqual({ cmd: 'emoji_update', id: 0, updated: true, name: 'hello', fileName: '0.png' })
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, name: 'HELLO' })).toMatchObject({ updated: true, name: 'HELLO' })
    expect(await bob.next('emoji_update')).toMatchObject({ name: 'HELLO' })
    const unchanged = (id: number) => ({ cmd: 'emoji_update', id, updated: false })
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, name: 'Smile' })).toEqual(unchanged(0))
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, name: 'a/b' })).toEqual(unchanged(0))
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 9, name: 'other' })).toEqual(unchanged(9))
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, image: dataUri(HTML) })).toEqual(unchanged(0))
    // A refused name keeps the image unchanged too: both or neither.
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, name: 'smile', image: dataUri(GIF, 'gif') })).toEqual(unchanged(0))
    await bob.expectNone('emoji_update')
    expect(await owner.error({ cmd: 'emoji_update', emoji_id: 0 })).toEqual(error('emoji_update', 'At least one field to update is required (name or image)'))
    expect(await owner.error({ cmd: 'emoji_update', emoji_id: 0, name: '', image: null })).toEqual(error('emoji_update', 'At least one field to update is required (name or image)'))
    expect((await owner.request({ cmd: 'emoji_get_all' })).emojis).toEqual({ '0': { name: 'HELLO', fileName: '0.png' }, '1': { name: 'smile', fileName: '1.png' } })
    const log = await owner.request({ cmd: 'modlog_get', action: 'emoji_update' })
    expect(log.entries.map((e: any) => e.details)).toEqual([{ name: 'HELLO' }, { name: 'hello' }])
  })

  test.concurrent('a new image replaces the file: the new one is served, the old one is gone', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await add(owner, 'wave')
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, image: dataUri(GIF, 'gif') })).toEqual({
      cmd: 'emoji_update', id: 0, updated: true, name: 'wave', fileName: '0.gif',
    })
    expect(emojiFiles(server)).toEqual(['0.gif'])
    const served = await fetch(httpUrl(server, '/emojis/0.gif'))
    expect(served.headers.get('content-type')).toBe('image/gif')
    expect(Buffer.from(await served.arrayBuffer())).toEqual(GIF)
    expect((await fetch(httpUrl(server, '/emojis/0.png'))).status).toBe(404)
    // Same format again: the file is replaced in place.
    const other = Buffer.concat([GIF, Buffer.from([0])])
    expect(await owner.request({ cmd: 'emoji_update', emoji_id: 0, name: 'waves', image: dataUri(other, 'gif') })).toMatchObject({ updated: true, name: 'waves', fileName: '0.gif' })
    expect(Buffer.from(await (await fetch(httpUrl(server, '/emojis/0'))).arrayBuffer())).toEqual(other)
    expect(emojiFiles(server)).toEqual(['0.gif'])
  })
})

describe('emoji_delete', () => {
  test.concurrent('removes the record and the file; an unknown ID answers deleted:false to the caller only, and is logged', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob = await server.login('bob')
    await add(owner, 'wave')
    const seen = bob.next('emoji_delete')
    expect(await owner.request({ cmd: 'emoji_delete', emoji_id: 0 })).toEqual({ cmd: 'emoji_delete', id: 0, deleted: true })
    expect(await seen).toEqual({ cmd: 'emoji_delete', id: 0, deleted: true })
    expect(existsSync(join(emojiDir(server), '0.png'))).toBe(false)
    expect((await fetch(httpUrl(server, '/emojis/0'))).status).toBe(404)
    expect(await owner.request({ cmd: 'emoji_delete', emoji_id: 0 })).toEqual({ cmd: 'emoji_delete', id: 0, deleted: false })
    await bob.expectNone('emoji_delete')
    const log = await owner.request({ cmd: 'modlog_get', action: 'emoji_delete' })
    expect(log.entries.map((e: any) => [e.target_id, e.target_name])).toEqual([['0', null], ['0', 'wave']])
  })
})

describe('emoji_get_filename and emoji_get_id', () => {
  test.concurrent('look names up case-insensitively and echo the name as sent', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await add(owner, 'wave')
    await add(owner, 'Party', dataUri(GIF, 'gif'))
    expect(await alice.request({ cmd: 'emoji_get_filename', name: 'PARTY' })).toEqual({ cmd: 'emoji_get_filename', name: 'PARTY', filepath: '1.gif' })
    expect(await alice.request({ cmd: 'emoji_get_id', name: 'party' })).toEqual({ cmd: 'emoji_get_id', name: 'party', id: '1' })
    expect(await alice.error({ cmd: 'emoji_get_id', name: 'nope' })).toEqual(error('emoji_get_id', 'Emoji not found'))
    expect(await alice.error({ cmd: 'emoji_get_filename', name: 'nope' })).toEqual(error('emoji_get_filename', 'Emoji not found'))
    rmSync(join(emojiDir(server), '0.png'))
    expect(await alice.error({ cmd: 'emoji_get_filename', name: 'wave' })).toEqual(error('emoji_get_filename', 'Emoji file not found'))
    expect(await alice.request({ cmd: 'emoji_get_id', name: 'wave' })).toEqual({ cmd: 'emoji_get_id', name: 'wave', id: '0' })
  })
})

test.concurrent('emojis outlive a restart: the list, the files and the next ID', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await add(owner, 'wave')
  await add(owner, 'gone')
  await owner.request({ cmd: 'emoji_delete', emoji_id: 1 })
  await server.restart()
  const again = await server.login('owner')
  expect((await again.request({ cmd: 'emoji_get_all' })).emojis).toEqual({ '0': { name: 'wave', fileName: '0.png' } })
  expect(Buffer.from(await (await fetch(httpUrl(server, '/emojis/0.png'))).arrayBuffer())).toEqual(PNG)
  expect(await add(again, 'next')).toMatchObject({ id: '2' })
})

test.concurrent('a custom emoji reference is a reaction like any other (the server does not interpret it)', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  await add(owner, 'wave')
  const message = await bob.post('hello')
  for (const emoji of [':wave:', 'originChats://127.0.0.1/emojis/0']) {
    const reacted = await owner.request({ cmd: 'message_react_add', channel: 'general', id: message.id, emoji })
    expect(reacted).toEqual({ cmd: 'message_react_add', id: message.id, emoji, channel: 'general', from: 'owner', global: true })
  }
  const stored = await bob.request({ cmd: 'message_get', channel: 'general', id: message.id })
  expect(stored.message.reactions).toEqual({ ':wave:': ['owner'], 'originChats://127.0.0.1/emojis/0': ['owner'] })
})

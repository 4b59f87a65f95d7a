import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, defaultConfig, loadConfigFile, parseConfig } from '../../src/config/load.ts'
import { UPSTREAM_CONFIG as UPSTREAM } from '../helpers/fixtures.ts'

const dir = await mkdtemp(join(tmpdir(), 'originchats-config-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

function configError(raw: unknown): ConfigError {
  try {
    parseConfig(raw, 'config.json')
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('parseConfig', () => {
  test('fills every default into an empty object', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({
      limits: { post_content: 2000, search_results: 30 },
      attachments: {
        enabled: true,
        max_size: 104857600,
        allowed_types: ['image/*', 'video/*', 'audio/*', 'application/pdf'],
        max_attachments_per_user: -1,
        permanent_tiers: ['pro', 'max'],
      },
      // Upstream treats a missing rate_limiting object as off, with fallbacks 30/5/60.
      rate_limiting: { enabled: false, messages_per_minute: 30, burst_limit: 5, cooldown_seconds: 60 },
      DB: { users: { default: { roles: ['user'] } } },
      websocket: { host: '127.0.0.1', port: 5613, heartbeat_seconds: 30 },
      server: { name: 'My OriginChats Server', owner: { name: 'Admin' } },
      auth_mode: 'rotur',
      cracked: { allow_registration: true },
      rotur: { validate_url: 'https://api.rotur.dev/validate', timeout_ms: 5000 },
      logging: { level: 'info', format: 'text' },
      plugins: { builtin: { welcome: { enabled: true, channel: 'general' }, commands: { enabled: true } } },
    })
    // upstream's informational block is not this server's version: nothing fills it in.
    expect(config).not.toHaveProperty('service')
    expect(defaultConfig()).toEqual(config)
  })

  test('fills defaults inside partial objects and keeps given values', () => {
    const config = parseConfig({ rate_limiting: { enabled: true }, server: { name: 'Mine' }, websocket: { port: 0 } })
    expect(config.rate_limiting).toEqual({ enabled: true, messages_per_minute: 30, burst_limit: 5, cooldown_seconds: 60 })
    expect(config.server).toEqual({ name: 'Mine', owner: { name: 'Admin' } })
    expect(config.websocket).toMatchObject({ host: '127.0.0.1', port: 0 })
  })

  test('does not modify its input', () => {
    const raw = { server: { name: 'Mine' } }
    parseConfig(raw)
    expect(raw).toEqual({ server: { name: 'Mine' } })
  })

  test('an upstream config.json with unknown keys loads, keeping them', () => {
    const config = parseConfig(structuredClone(UPSTREAM))
    expect(config.server).toEqual(UPSTREAM.server)
    expect(config.limits).toEqual(UPSTREAM.limits)
    expect(config.rate_limiting).toEqual({ enabled: true, messages_per_minute: 60, burst_limit: 10, cooldown_seconds: 30 })
    expect(config.attachments).toMatchObject({ permanent_expiration_days: 365, compression: { jpeg_quality: 85 } })
    expect((config as Record<string, any>).modlog.retention.default).toBe(90)
    expect(config.auth_mode).toBe('rotur')
    expect((config as Record<string, unknown>).service).toEqual(UPSTREAM.service)
    // Upstream welcomes new users and runs the owner's ! commands without a `plugins` key.
    expect(config.plugins.builtin.welcome.enabled).toBe(true)
    expect(config.plugins.builtin.commands.enabled).toBe(true)
  })

  test('one ConfigError names every bad path', () => {
    const error = configError({
      limits: { post_content: 'long' },
      websocket: { port: 70000 },
      auth_mode: 'anonymous',
      rate_limiting: { enabled: 'yes' },
      DB: { users: { default: { roles: 'user' } } },
    })
    for (const path of ['/limits/post_content', '/websocket/port', '/auth_mode', '/rate_limiting/enabled', '/DB/users/default/roles']) {
      expect(error.message).toContain(path)
    }
    expect(error.message).toStartWith('config.json is invalid:')
    expect(error.message).not.toContain('/server')
  })

  test('a non-object is refused', () => {
    for (const raw of [null, [], 'config', 5]) expect(configError(raw).message).toBe('config.json: must be a JSON object')
  })
})

describe('loadConfigFile', () => {
  test('reads an upstream config.json written with 4-space indentation', async () => {
    const path = join(dir, 'upstream.json')
    await writeFile(path, JSON.stringify(UPSTREAM, null, 4))
    const config = await loadConfigFile(path)
    expect(config.server.name).toBe('My OriginChats Server')
    expect(config.websocket.port).toBe(5613)
  })

  test('a missing file, invalid JSON and invalid values are ConfigErrors naming the file', async () => {
    const missing = join(dir, 'missing.json')
    await expect(loadConfigFile(missing)).rejects.toThrow(new ConfigError(`${missing}: file not found`))
    const broken = join(dir, 'broken.json')
    await writeFile(broken, '{"server": ')
    await expect(loadConfigFile(broken)).rejects.toBeInstanceOf(ConfigError)
    await expect(loadConfigFile(broken)).rejects.toThrow(`${broken}: not valid JSON`)
    const invalid = join(dir, 'invalid.json')
    await writeFile(invalid, JSON.stringify({ websocket: { port: -1 } }))
    await expect(loadConfigFile(invalid)).rejects.toThrow(`${invalid} is invalid:`)
  })
})

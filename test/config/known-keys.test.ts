import { expect, test } from 'bun:test'
import shippedConfig from '../../config.json'
import { unknownKeys } from '../../src/config/known-keys.ts'
import { defaultConfig } from '../../src/config/load.ts'
import { UPSTREAM_CONFIG } from '../helpers/fixtures.ts'

test('upstream’s config.json (latest and seed keys), the shipped one and the defaults have no unknown key', () => {
  const seed = { rotur: { validate_url: 'https://social.rotur.dev/validate', validate_key: 'your_key_here' }, cracked: { default_roles: ['user'] } }
  for (const config of [UPSTREAM_CONFIG, seed, shippedConfig, defaultConfig()]) expect(unknownKeys(config)).toEqual([])
})

test('each unknown key is named by its path, with the closest key of the same object when one is close', () => {
  expect(
    unknownKeys({
      websocket: { prot: 5613, host: '127.0.0.1' },
      webscoket: { port: 1 },
      db: {},
      DB: { chanels: 'db/channels.json', users: { fil: 'db/users.json' } },
      logging: { formt: 'json' },
      attachments: { compression: { jpg_quality: 80 } },
      plugins: { builtin: { welcom: { enabled: true }, commands: { enabld: true } } },
      frobnicate: true,
      'two\nlines': 1,
    }),
  ).toEqual([
    "websocket.prot: unknown key; did you mean 'port'?",
    "webscoket: unknown key; did you mean 'websocket'?",
    "db: unknown key; did you mean 'DB'?",
    "DB.chanels: unknown key; did you mean 'channels'?",
    "DB.users.fil: unknown key; did you mean 'file'?",
    "logging.formt: unknown key; did you mean 'format'?",
    "attachments.compression.jpg_quality: unknown key; did you mean 'jpeg_quality'?",
    "plugins.builtin.welcom: unknown key; did you mean 'welcome'?",
    "plugins.builtin.commands.enabld: unknown key; did you mean 'enabled'?",
    'frobnicate: unknown key',
    '"two\\nlines": unknown key',
  ])
})

test('objects whose extra keys are intended are not checked: server, limits, the new-user template, service, plugin slices', () => {
  expect(
    unknownKeys({
      server: { name: 'Mine', motto: 'echoed in the handshake', owner: { name: 'alice', pronouns: 'she' } },
      limits: { post_content: 500, channels: 20 },
      DB: { users: { default: { roles: ['user'], tier: 'free' } } },
      service: { name: 'OriginChats', version: '9.9.9', mood: 'fine' },
      plugins: { dir: 'plugins', echo: { prefix: '!say' }, automod: { blocked_words: [] } },
    }),
  ).toEqual([])
})

test('values of the wrong type are left to the schema', () => {
  expect(unknownKeys({ websocket: 5613, plugins: null, logging: ['json'] })).toEqual([])
  expect(unknownKeys('config')).toEqual([])
})

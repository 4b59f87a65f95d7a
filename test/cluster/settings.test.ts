import { expect, test } from 'bun:test'
import { clusterSettings } from '../../src/cluster/settings.ts'
import { parseConfig } from '../../src/config/load.ts'
import { unknownKeys } from '../../src/config/known-keys.ts'

test('without a Redis URL there is no cluster; the environment overrides config.json', () => {
  expect(clusterSettings(parseConfig({}), undefined)).toBeUndefined()
  expect(clusterSettings(parseConfig({ cluster: { redis_url: '  ' } }), undefined)).toBeUndefined()
  const fromFile = clusterSettings(parseConfig({ cluster: { redis_url: 'redis://10.0.0.5:6379', node_id: 'east-1' } }), undefined)
  expect(fromFile).toEqual({ url: 'redis://10.0.0.5:6379', nodeId: 'east-1', prefix: 'originchats:', stream: 'originchats:bus', streamMaxLength: 100_000, nodeTimeoutMs: 5000 })
  const fromEnv = clusterSettings(parseConfig({ cluster: { redis_url: 'redis://10.0.0.5:6379' } }), 'redis://127.0.0.1:6380')
  expect(fromEnv?.url).toBe('redis://127.0.0.1:6380')
  // A node without a name gets a fresh one at each start.
  expect(fromEnv?.nodeId).toMatch(/^[0-9a-f-]{36}$/)
})

test('cluster keys are known, and bad values are refused', () => {
  expect(unknownKeys({ cluster: { redis_url: '', node_timeout_ms: 3000, stream: 'bus', key_prefix: 'x:' } })).toEqual([])
  expect(unknownKeys({ cluster: { redis_uri: '' } })[0]).toContain('cluster.redis_uri')
  expect(() => parseConfig({ cluster: { node_timeout_ms: 10 } })).toThrow('/cluster/node_timeout_ms')
})

import type { Config } from '../config/schema.ts'

/** What a node needs to join a cluster, resolved once at start. */
export interface ClusterSettings {
  url: string
  nodeId: string
  /** Every key this node touches starts with it. */
  prefix: string
  stream: string
  streamMaxLength: number
  nodeTimeoutMs: number
}

/** The Redis URL in force: the environment wins over config.json, so one file can serve every node. */
export function redisUrl(config: Config, env: string | undefined = process.env.ORIGINCHATS_REDIS_URL): string {
  return (env ?? config.cluster.redis_url).trim()
}

export function clusterSettings(config: Config, env?: string): ClusterSettings | undefined {
  const url = redisUrl(config, env)
  if (!url) return undefined
  const { node_id, key_prefix, stream, stream_max_length, node_timeout_ms } = config.cluster
  return {
    url,
    nodeId: node_id || crypto.randomUUID(),
    prefix: key_prefix,
    stream: key_prefix + stream,
    streamMaxLength: stream_max_length,
    nodeTimeoutMs: node_timeout_ms,
  }
}

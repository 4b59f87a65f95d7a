import { Type as T, type Static } from '@sinclair/typebox'

/**
 * The whole of config.json. Every key the server reads has its default here, so a partial
 * file (or an upstream OriginChats config.json) loads unchanged. Unknown keys are kept:
 * `server` and `limits` are echoed verbatim in the handshake, as upstream does. Upstream keys
 * this server accepts without reading them (`service.*` among them) are listed in known-keys.ts.
 */
const Open = { additionalProperties: true, default: {} } as const

export const AuthMode = T.Union([T.Literal('rotur'), T.Literal('cracked'), T.Literal('cracked-only')])
export type AuthMode = Static<typeof AuthMode>

export const Config = T.Object(
  {
    limits: T.Object(
      {
        post_content: T.Integer({ minimum: 1, default: 2000 }),
        search_results: T.Integer({ default: 30 }),
      },
      Open,
    ),
    attachments: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        max_size: T.Integer({ minimum: 0, default: 104857600 }),
        allowed_types: T.Array(T.String(), { default: ['image/*', 'video/*', 'audio/*', 'application/pdf'] }),
        max_attachments_per_user: T.Integer({ default: -1 }),
        permanent_tiers: T.Array(T.String(), { default: ['pro', 'max'] }),
        permanent_expiration_days: T.Number({ exclusiveMinimum: 0, default: 365 }),
        free_tier_max_expiration_days: T.Number({ exclusiveMinimum: 0, default: 7 }),
        /** Seconds a Rotur subscription lookup is reused. */
        subscription_cache_ttl: T.Number({ minimum: 0, default: 300 }),
        /** Uploads per user per minute (upstream documented it but never enforced it); 0 = no limit. */
        uploads_per_minute: T.Integer({ minimum: 0, default: 10 }),
        /** Bytes of unexpired uploads one user may hold (not upstream); −1 = no limit. */
        max_storage_per_user: T.Integer({ minimum: -1, default: 1073741824 }),
      },
      Open,
    ),
    // Upstream treats a missing object or a missing `enabled` as "off", with fallbacks 30/5/60.
    rate_limiting: T.Object(
      {
        enabled: T.Boolean({ default: false }),
        messages_per_minute: T.Integer({ minimum: 1, default: 30 }),
        burst_limit: T.Integer({ minimum: 1, default: 5 }),
        cooldown_seconds: T.Number({ minimum: 0, default: 60 }),
      },
      Open,
    ),
    modlog: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        /** Days an entry is kept, per category; `default` for categories not listed. */
        retention: T.Object(
          {
            default: T.Number({ minimum: 0, default: 90 }),
            user_moderation: T.Number({ minimum: 0, default: 365 }),
            role_management: T.Number({ minimum: 0, default: 365 }),
            channel_management: T.Number({ minimum: 0, default: 180 }),
            message_moderation: T.Number({ minimum: 0, default: 90 }),
            server_management: T.Number({ minimum: 0, default: 180 }),
          },
          Open,
        ),
      },
      Open,
    ),
    DB: T.Object(
      {
        users: T.Object(
          {
            default: T.Object({ roles: T.Array(T.String(), { default: ['user'] }) }, Open),
          },
          Open,
        ),
      },
      Open,
    ),
    /** Custom emojis (commands.md §12). Images are stored as uploaded, never re-encoded. */
    uploads: T.Object(
      {
        /** File types of emoji images (png, gif, jpg/jpeg, webp); compared lower-case without a leading dot; empty means the default. */
        emoji_allowed_file_types: T.Array(T.String(), { default: ['gif', 'jpg', 'jpeg', 'png'] }),
        /** Largest emoji image in bytes (decoded); upstream had no limit. */
        emoji_max_size: T.Integer({ minimum: 1, default: 512 * 1024 }),
        /** Most custom emojis the server holds; upstream had no limit. */
        emoji_max_count: T.Integer({ minimum: 0, default: 500 }),
      },
      Open,
    ),
    websocket: T.Object(
      {
        host: T.String({ default: '127.0.0.1' }),
        port: T.Integer({ minimum: 0, maximum: 65535, default: 5613 }),
        /** Largest accepted frame in bytes; bigger frames close the socket with 1009. */
        max_payload: T.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
        /** Bytes queued for one slow reader before the server closes it, so it never holds others back. */
        backpressure_limit: T.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
        /** Seconds without traffic (WebSocket pings included) before a dead peer is dropped. */
        idle_timeout: T.Integer({ minimum: 0, maximum: 960, default: 120 }),
        heartbeat_seconds: T.Number({ exclusiveMinimum: 0, default: 30 }),
      },
      Open,
    ),
    server: T.Object(
      {
        name: T.String({ default: 'My OriginChats Server' }),
        owner: T.Object({ name: T.String({ default: 'Admin' }) }, Open),
        icon: T.Optional(T.Union([T.String(), T.Null()])),
        banner: T.Optional(T.Union([T.String(), T.Null()])),
        url: T.Optional(T.Union([T.String(), T.Null()])),
      },
      Open,
    ),
    auth_mode: T.Union([T.Literal('rotur'), T.Literal('cracked'), T.Literal('cracked-only')], { default: 'rotur' }),
    cracked: T.Object({ allow_registration: T.Boolean({ default: true }) }, Open),
    rotur: T.Object(
      {
        validate_url: T.String({ default: 'https://api.rotur.dev/validate' }),
        timeout_ms: T.Integer({ minimum: 1, default: 5000 }),
      },
      Open,
    ),
    /** Abuse limits that upstream lacks; all per client address. */
    security: T.Object(
      {
        max_connections_per_ip: T.Integer({ minimum: 1, default: 32 }),
        registrations_per_hour: T.Integer({ minimum: 1, default: 10 }),
        /** Failed sign-ins per minute for one account from one address (strict). */
        auth_failures_per_minute: T.Integer({ minimum: 1, default: 10 }),
        /** Failed sign-ins and taken-name registrations per minute from one address, any account (loose). */
        auth_failures_per_address_per_minute: T.Integer({ minimum: 1, default: 60 }),
        /**
         * Per user, for reactions, pins, deletes, status, search and management commands (the
         * message limiter counts messages and typing): the same algorithm as `rate_limiting`,
         * always on.
         */
        actions_per_minute: T.Integer({ minimum: 1, default: 120 }),
        /** Actions within 10 seconds that start a cooldown. */
        actions_burst: T.Integer({ minimum: 1, default: 30 }),
        actions_cooldown_seconds: T.Number({ minimum: 0, default: 10 }),
        /** Shortest password for new local accounts (upstream accepted 4). */
        min_password_length: T.Integer({ minimum: 1, maximum: 72, default: 8 }),
        /**
         * Behind a reverse proxy every connection comes from the proxy. When true, the client
         * address is the last entry of `X-Forwarded-For` (the one the proxy itself added). Only
         * enable it when a proxy always sets that header, or clients could pick their address.
         */
        trust_proxy: T.Boolean({ default: false }),
      },
      Open,
    ),
    /** Several nodes behind a load balancer: Redis carries broadcasts, presence and limits (docs/cluster.md). */
    cluster: T.Object(
      {
        /** `redis://host:port`; empty keeps the single-node mode. The env `ORIGINCHATS_REDIS_URL` overrides it. */
        redis_url: T.String({ default: '' }),
        /** This node's name in Redis; empty picks a random one at each start. */
        node_id: T.String({ default: '' }),
        /** Prefix of every Redis key this server uses (several clusters can share one Redis). */
        key_prefix: T.String({ default: 'originchats:' }),
        /** The Redis Stream that carries broadcasts and control events, under `key_prefix`. */
        stream: T.String({ default: 'bus' }),
        /** Entries kept in the stream (approximate trimming): how far behind a node may fall before it must resync. */
        stream_max_length: T.Integer({ minimum: 1000, default: 100_000 }),
        /** A node not heard from for this long is taken as dead: its users are announced gone. */
        node_timeout_ms: T.Integer({ minimum: 500, default: 5000 }),
      },
      Open,
    ),
    storage: T.Object(
      {
        /** Folder of the database, relative to config.json unless absolute. `--data` overrides it. */
        data_dir: T.String({ default: 'data' }),
        /** "normal" survives any process crash; "full" also survives power loss, at a cost per message. */
        synchronous: T.Union([T.Literal('normal'), T.Literal('full')], { default: 'normal' }),
        /** "sqlite": the file in `data_dir`. "postgres": the server at `url` (several nodes may share it). */
        driver: T.Union([T.Literal('sqlite'), T.Literal('postgres')], { default: 'sqlite' }),
        /** postgres://user:password@host:port/database; ORIGINCHATS_STORAGE_URL or DATABASE_URL override it. */
        url: T.String({ default: '' }),
      },
      Open,
    ),
    /** Periodic backups while serving: every `interval_minutes` (0 = off; fractions allowed), newest `keep` kept. */
    backup: T.Object(
      {
        interval_minutes: T.Number({ minimum: 0, default: 0 }),
        /** Relative to the data folder unless absolute. */
        dir: T.String({ default: 'backups' }),
        keep: T.Integer({ minimum: 1, default: 7 }),
      },
      Open,
    ),
    /**
     * Serve HTTPS and wss:// directly when both are set: PEM files, relative to config.json unless
     * absolute. Changed files (renewals) are picked up while serving.
     */
    tls: T.Object({ cert: T.Optional(T.String({ minLength: 1 })), key: T.Optional(T.String({ minLength: 1 })) }, Open),
    /**
     * `GET /metrics` in the Prometheus text format (docs/metrics.md). Public, like `/info`; to keep
     * it private, turn it off or block the path at a reverse proxy.
     */
    metrics: T.Object({ enabled: T.Boolean({ default: true }) }, Open),
    /** Web Push to users with no live connection who are mentioned or replied to (docs/configuration.md). */
    push: T.Object(
      {
        /** Off: `push_get_vapid` answers that VAPID is not configured and nothing is sent. */
        enabled: T.Boolean({ default: true }),
        /** Beyond this a user's least recently used subscriptions are dropped. */
        max_subscriptions_per_user: T.Integer({ minimum: 1, default: 10 }),
        /** A mentioned role with more members than this notifies nobody (an @everyone-like role). */
        max_role_members: T.Integer({ minimum: 0, default: 100 }),
        /** At most this many users are notified for one message. */
        max_targets_per_message: T.Integer({ minimum: 1, default: 200 }),
        /** Push requests in flight at once. */
        concurrency: T.Integer({ minimum: 1, default: 8 }),
        /** Messages waiting for delivery; when full, the oldest is dropped. */
        queue_size: T.Integer({ minimum: 1, default: 1000 }),
        /** A push service slower than this is given up on. */
        timeout_ms: T.Integer({ minimum: 1, default: 10_000 }),
        /** Accept plain http:// endpoints on loopback addresses (a local push service for testing). */
        allow_http_loopback: T.Boolean({ default: false }),
      },
      Open,
    ),
    logging: T.Object(
      {
        level: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error'), T.Literal('silent')], {
          default: 'info',
        }),
        /** `text`: time, level, message per line. `json`: one object per line, for log collectors. */
        format: T.Union([T.Literal('text'), T.Literal('json')], { default: 'text' }),
      },
      Open,
    ),
    /**
     * Plugins (docs/plugins.md). Any other key `plugins.<name>` is the config slice of the
     * folder plugin `<name>`; `dir`, `handler_timeout_ms` and `builtin` are reserved names.
     */
    plugins: T.Object(
      {
        /** Folder of plugin files, relative to config.json unless absolute. */
        dir: T.String({ default: 'plugins' }),
        /** A handler still running after this long is reported as hanging (and no longer waited for). */
        handler_timeout_ms: T.Integer({ minimum: 1, default: 10_000 }),
        builtin: T.Object(
          {
            welcome: T.Object(
              {
                enabled: T.Boolean({ default: true }),
                channel: T.String({ default: 'general' }),
                message: T.String({ default: 'Welcome {username}! Thanks for joining the server.' }),
                first_time_only: T.Boolean({ default: true }),
              },
              Open,
            ),
            commands: T.Object({ enabled: T.Boolean({ default: true }) }, Open),
          },
          Open,
        ),
      },
      Open,
    ),
  },
  { additionalProperties: true },
)
export type Config = Static<typeof Config>

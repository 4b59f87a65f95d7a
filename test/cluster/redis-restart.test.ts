import { afterEach, describe, expect, test } from 'bun:test'
import type { Subprocess } from 'bun'
import type { Packet, TestClient } from '../helpers/client.ts'
import { until } from '../helpers/cluster.ts'
import { sharedClusterUnavailable, startSharedCluster } from '../helpers/shared-cluster.ts'

/**
 * A real Redis restart (issue "Scale-out", faults): a redis-server of this test's own, on a port
 * of its own, killed and started again empty, as a restart without persistence leaves it. The
 * machine's shared Redis is never touched.
 */
const REDIS_SERVER = Bun.which('redis-server')
const unavailable = REDIS_SERVER ? await sharedClusterUnavailable() : 'Redis restart test skipped: no redis-server binary on PATH'
if (unavailable && !REDIS_SERVER) console.warn(unavailable)

let redis: Subprocess | undefined
afterEach(() => {
  redis?.kill('SIGKILL')
  redis = undefined
})

/** A port nothing listens on now (the kernel picks it; it is released at once). */
function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = listener
  listener.stop(true)
  return port
}

/** Starts an empty redis-server on `port`; resolves once it accepts commands. */
async function startRedis(port: number): Promise<Subprocess> {
  const child = Bun.spawn({
    cmd: [REDIS_SERVER!, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    stdout: 'ignore',
    stderr: 'ignore',
  })
  await until(`redis-server on port ${port} answers`, async () => {
    const client = new Bun.RedisClient(`redis://127.0.0.1:${port}`, { connectionTimeout: 200, autoReconnect: false })
    try {
      return (await client.send('PING', [])) === 'PONG'
    } catch {
      return false
    } finally {
      client.close()
    }
  })
  return child
}

const history = async (client: TestClient) => ((await client.request({ cmd: 'messages_get', channel: 'general' })).messages as Packet[]).map((m) => m.id)

describe.skipIf(unavailable !== undefined)('a Redis restart under two nodes', () => {
  test('no acknowledged message is lost from history, live delivery resumes, presence is rebuilt', async () => {
    const port = freePort()
    redis = await startRedis(port)
    await using cluster = await startSharedCluster([{}, {}], { cluster: { redis_url: `redis://127.0.0.1:${port}` } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', (p) => p.user?.username === 'bob')
    const acked = [(await alice.post('before the restart')).id]
    await bob.next('message_new', (p) => p.message.id === acked[0])

    redis.kill('SIGKILL')
    await redis.exited
    // Acknowledged while Redis is away: stored, their broadcasts held by the node.
    for (let i = 0; i < 3; i++) acked.push((await alice.post(`during the outage ${i}`)).id)
    redis = await startRedis(port)

    // Live delivery resumes: a message sent once the nodes are back reaches the other node.
    await until('a message posted on A reaches B live again', async () => {
      const probe = await alice.post(`probe ${crypto.randomUUID()}`)
      acked.push(probe.id)
      return Promise.race([bob.next('message_new', (p) => p.message.id === probe.id).then(() => true), Bun.sleep(500).then(() => false)])
    })
    for (const id of acked) expect(await history(bob)).toContain(id)

    // Presence rebuilt: a newcomer on either node sees both users online, once each.
    const carol = await b.login('carol')
    await until('both nodes wrote their sessions again', async () => {
      const online = (await carol.request({ cmd: 'users_online' })).users.map((u: Packet) => u.username).sort()
      return JSON.stringify(online) === JSON.stringify(['alice', 'bob', 'carol'])
    })
    expect(bob.inbox.filter((p) => p.cmd === 'user_disconnect')).toEqual([])
    // And leaving is announced again, through the new Redis.
    await bob.close()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
  }, 60_000)
})

export type Packet = { cmd: string; [key: string]: any }

let sentinels = 0
let posts = 0

/**
 * A real WebSocket client that keeps every packet it receives. `next(cmd)` takes the oldest
 * unread packet with that cmd, waiting for one if none has arrived yet, so tests never depend
 * on the interleaving of unrelated packets.
 */
export class TestClient {
  readonly inbox: Packet[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters: Array<{ match: (p: Packet) => boolean; resolve: (p: Packet) => void; reject: (e: Error) => void }> = []
  private isClosed = false

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.addEventListener('close', (event) => {
        this.isClosed = true
        for (const waiter of this.waiters) waiter.reject(new Error(`socket closed (${event.code}) while waiting`))
        this.waiters = []
        resolve({ code: event.code, reason: event.reason })
      })
    })
    ws.addEventListener('message', (event) => {
      const packet = JSON.parse(String(event.data)) as Packet
      const waiter = this.waiters.find((w) => w.match(packet))
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve(packet)
      } else {
        this.inbox.push(packet)
      }
    })
  }

  /** Opens a socket and waits for the handshake. */
  static async connect(url: string): Promise<TestClient> {
    const ws = new WebSocket(url)
    const client = new TestClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true })
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true })
    })
    client.handshake = await client.next('handshake')
    return client
  }

  handshake!: Packet

  send(packet: unknown) {
    this.ws.send(typeof packet === 'string' ? packet : JSON.stringify(packet))
  }

  next(cmd: string, where: (p: Packet) => boolean = () => true): Promise<Packet> {
    const match = (p: Packet) => p.cmd === cmd && where(p)
    const index = this.inbox.findIndex(match)
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!)
    if (this.isClosed) return Promise.reject(new Error(`socket closed; no ${cmd} arrived`))
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }))
  }

  /**
   * Posts a message (into #general unless `fields` names a channel or thread) and waits for the
   * caller's own echo, told apart by a listener; returns the client-form message.
   */
  async post(content: string, fields: Record<string, unknown> = {}): Promise<Packet> {
    const listener = `post-${++posts}`
    this.send({ cmd: 'message_new', ...(fields.thread_id ? {} : { channel: 'general' }), content, ...fields, listener })
    return (await this.next('message_new', (p) => p.listener === listener)).message
  }

  /** Sends `packet` and waits for the next packet named `reply` (default: the same cmd). */
  async request(packet: Packet, reply = packet.cmd): Promise<Packet> {
    this.send(packet)
    return this.next(reply)
  }

  /** Sends `packet` and waits for the error it causes. */
  async error(packet: Packet): Promise<Packet> {
    this.send(packet)
    return this.next('error')
  }

  /**
   * Proves nothing named `cmd` has arrived: the server answers a sentinel ping only after
   * everything sent to this socket before it, so anything already triggered comes first.
   */
  async expectNone(cmd: string): Promise<void> {
    const listener = `sentinel-${++sentinels}`
    this.send({ cmd: 'ping', listener })
    await this.next('pong', (p) => p.listener === listener)
    const stray = this.inbox.find((p) => p.cmd === cmd)
    if (stray) throw new Error(`unexpected ${cmd}: ${JSON.stringify(stray)}`)
  }

  /** Forgets packets received so far (for example presence noise from other logins). */
  drain(cmd?: string) {
    for (let i = this.inbox.length - 1; i >= 0; i--) if (cmd === undefined || this.inbox[i]!.cmd === cmd) this.inbox.splice(i, 1)
  }

  async close() {
    if (this.isClosed) return
    this.ws.close()
    await this.closed
  }

  async [Symbol.asyncDispose]() {
    await this.close()
  }
}

import { connect, type Socket } from 'node:net'
import type { Packet } from './client.ts'

/**
 * A WebSocket client written on a bare TCP socket, so a test can do what browsers never do:
 * stop reading, or vanish without a close frame. It speaks just enough RFC 6455: the upgrade,
 * masked text frames out, unfragmented text/close/ping frames in.
 */
export class RawSocket {
  readonly packets: Packet[] = []
  /** Resolves when the TCP connection is gone (closed by either side). */
  readonly closed: Promise<void>
  private waiters: Array<{ match: (p: Packet) => boolean; resolve: (p: Packet) => void; reject: (e: Error) => void }> = []
  private buffer = Buffer.alloc(0)
  private isClosed = false

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        for (const waiter of this.waiters) waiter.reject(new Error('raw socket closed while waiting'))
        this.waiters = []
        resolve()
      })
    })
    socket.on('error', () => {})
  }

  /** Connects, upgrades and waits for the server's `handshake` packet. */
  static async open(url: string): Promise<RawSocket & { handshake: Packet }> {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) })
    const raw = new RawSocket(socket)
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
    let head = Buffer.alloc(0)
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        socket.off('data', onData)
        const status = head.subarray(0, head.indexOf('\r\n')).toString()
        if (!status.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${status}`))
        socket.on('data', (data: Buffer) => raw.receive(data))
        raw.receive(head.subarray(end + 4))
        resolve()
      }
      socket.on('data', onData)
      socket.once('error', reject)
      socket.once('connect', () =>
        socket.write(
          `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      )
    })
    return Object.assign(raw, { handshake: await raw.next('handshake') })
  }

  send(packet: Packet) {
    this.frame(0x1, Buffer.from(JSON.stringify(packet)))
  }

  next(cmd: string, where: (p: Packet) => boolean = () => true): Promise<Packet> {
    const match = (p: Packet) => p.cmd === cmd && where(p)
    const index = this.packets.findIndex(match)
    if (index >= 0) return Promise.resolve(this.packets.splice(index, 1)[0]!)
    if (this.isClosed) return Promise.reject(new Error(`raw socket closed; no ${cmd} arrived`))
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }))
  }

  /** Masked frame, as RFC 6455 requires of clients. */
  private frame(opcode: number, payload: Buffer) {
    const length = payload.length
    const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : Buffer.alloc(4)
    if (length >= 126) {
      if (length > 0xffff) throw new Error('frame too large for this test client')
      header.writeUInt8(0x80 | opcode, 0)
      header.writeUInt8(0x80 | 126, 1)
      header.writeUInt16BE(length, 2)
    }
    const mask = Buffer.from(crypto.getRandomValues(new Uint8Array(4)))
    const body = Buffer.from(payload)
    for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!
    this.socket.write(Buffer.concat([header, mask, body]))
  }

  private receive(data: Buffer) {
    this.buffer = Buffer.concat([this.buffer, data])
    while (this.buffer.length >= 2) {
      const opcode = this.buffer[0]! & 0x0f
      let length = this.buffer[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.buffer.length < 4) return
        length = this.buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.buffer.length < 10) return
        length = Number(this.buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (this.buffer.length < offset + length) return
      const payload = this.buffer.subarray(offset, offset + length)
      this.buffer = this.buffer.subarray(offset + length)
      if (opcode === 0x1) this.deliver(JSON.parse(payload.toString()) as Packet)
      else if (opcode === 0x9) this.frame(0xa, Buffer.from(payload))
    }
  }

  private deliver(packet: Packet) {
    const waiter = this.waiters.find((w) => w.match(packet))
    if (!waiter) return void this.packets.push(packet)
    this.waiters.splice(this.waiters.indexOf(waiter), 1)
    waiter.resolve(packet)
  }
}

import type { Socket, TCPSocketListener } from 'bun'

/** One side of a proxied connection: bytes not yet accepted by the socket wait here for `drain`. */
interface End {
  socket?: Socket<End>
  queue: Uint8Array[]
  peer?: End
}

function send(end: End, chunk: Uint8Array) {
  if (!end.socket || end.queue.length > 0) {
    end.queue.push(chunk.slice())
    return
  }
  const written = end.socket.write(chunk)
  if (written < chunk.length) end.queue.push(chunk.slice(written))
}

function drain(end: End) {
  while (end.socket && end.queue.length > 0) {
    const chunk = end.queue[0]!
    const written = end.socket.write(chunk)
    if (written < chunk.length) {
      end.queue[0] = chunk.slice(written)
      return
    }
    end.queue.shift()
  }
}

export interface TcpProxy {
  port: number
  /** Drops every connection and stops listening: the database looks down. */
  cut(): void
  /** Listens again on the same port: the database is back. */
  resume(): void
  stop(): void
}

/** A loopback TCP proxy to `target`, for tests that make a database disappear and come back. */
export function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): TcpProxy {
  const open = new Set<End>()
  const handlers = {
    open(client: Socket<End>) {
      const near: End = { socket: client, queue: [] }
      const far: End = { queue: [], peer: near }
      near.peer = far
      client.data = near
      open.add(near)
      void Bun.connect<End>({
        hostname: targetHost,
        port: targetPort,
        data: far,
        socket: {
          open(upstream) {
            far.socket = upstream
            drain(far)
          },
          data: (_upstream, chunk) => send(near, chunk),
          drain: () => drain(far),
          close: () => void near.socket?.end(),
          error: () => void near.socket?.end(),
        },
      }).catch(() => client.end())
    },
    data: (client: Socket<End>, chunk: Uint8Array) => send(client.data.peer!, chunk),
    drain: (client: Socket<End>) => drain(client.data),
    close(client: Socket<End>) {
      open.delete(client.data)
      client.data.peer?.socket?.end()
    },
  }
  let listener: TCPSocketListener<End> | undefined = Bun.listen<End>({ hostname: '127.0.0.1', port: 0, socket: handlers })
  const port = listener.port
  const cut = () => {
    listener?.stop(true)
    listener = undefined
    for (const end of open) {
      end.socket?.end()
      end.peer?.socket?.end()
    }
    open.clear()
  }
  return {
    port,
    cut,
    resume() {
      listener ??= Bun.listen<End>({ hostname: '127.0.0.1', port, socket: handlers })
    },
    stop: cut,
  }
}

/**
 * `VACUUM INTO` on a worker thread with its own read-only connection: WAL gives it one
 * consistent snapshot while the server keeps reading and writing, and the copy (which takes a
 * while for a large database) never stalls the event loop. The worker is built from a string so
 * the compiled binary needs no extra entry point.
 */
const WORKER = `
import { Database } from 'bun:sqlite'
self.onmessage = (event) => {
  try {
    const db = new Database(event.data.source, { readonly: true })
    try { db.run('VACUUM INTO ?', [event.data.target]) } finally { db.close() }
    postMessage({ ok: true })
  } catch (error) {
    postMessage({ ok: false, error: String(error?.message ?? error) })
  }
}
`

let workerUrl: string | undefined

export function vacuumInto(source: string, target: string): Promise<void> {
  workerUrl ??= URL.createObjectURL(new Blob([WORKER], { type: 'application/javascript' }))
  const worker = new Worker(workerUrl)
  return new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ok: boolean; error?: string }>) => {
      worker.terminate()
      if (event.data.ok) resolve()
      else reject(new Error(`backup failed: ${event.data.error}`))
    }
    worker.onerror = (event) => {
      worker.terminate()
      reject(new Error(`backup failed: ${event.message}`))
    }
    worker.postMessage({ source, target })
  })
}

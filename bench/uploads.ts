/**
 * The upload load of the bench's `uploads` scenario: one user, signed in over a WebSocket (uploads
 * need a live connection), POSTs `count` distinct files of `size` bytes to /attachments/upload,
 * `concurrency` at a time, and reports the throughput. With `until`, it stops starting uploads
 * once that settles (still at most `count`).
 */

export interface UploadParams {
  count: number
  concurrency: number
  size: number
}

export interface UploadResult {
  params: UploadParams
  uploaded: number
  failed: number
  ms: number
  perSecond: number
  mibPerSecond: number
  error?: string
}

/** Resolves once the socket is signed in, with the handshake's validator key and the socket. */
async function signIn(wsUrl: string, user: string): Promise<{ ws: WebSocket; validatorKey: string }> {
  const ws = new WebSocket(wsUrl)
  let validatorKey = ''
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('error', () => reject(new Error(`uploader: cannot connect to ${wsUrl}`)))
    ws.addEventListener('message', (event) => {
      const packet = JSON.parse(String(event.data))
      if (packet.cmd === 'handshake') {
        validatorKey = packet.val.validator_key
        ws.send(JSON.stringify({ cmd: 'auth', validator: user }))
      }
      if (packet.cmd === 'ready') resolve()
      if (packet.cmd === 'auth_error' || packet.cmd === 'error') reject(new Error(`uploader: ${JSON.stringify(packet)}`))
    })
  })
  return { ws, validatorKey }
}

export async function uploadLoad(wsUrl: string, params: UploadParams, until?: Promise<unknown>, user = 'uploader'): Promise<UploadResult> {
  const result: UploadResult = { params, uploaded: 0, failed: 0, ms: NaN, perSecond: NaN, mibPerSecond: NaN }
  const endpoint = `${wsUrl.replace(/^ws/, 'http').replace(/\/$/, '')}/attachments/upload`
  const { ws, validatorKey } = await signIn(wsUrl, user)
  const bytes = new Uint8Array(params.size)
  for (let at = 0; at < bytes.length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536))
  bytes.set(new TextEncoder().encode('%PDF-1.7\n'))
  let next = 0
  let stopped = false
  until?.finally(() => (stopped = true))
  const start = performance.now()
  const uploadOne = async () => {
    while (next < params.count && !stopped) {
      const n = next++
      // Distinct files: the server keeps one copy of identical uploads per user.
      new DataView(bytes.buffer).setUint32(16, n)
      const body = JSON.stringify({
        validator_key: validatorKey,
        validator: user,
        file: `data:application/pdf;base64,${Buffer.from(bytes).toString('base64')}`,
        name: `bench-${n}.pdf`,
        mime_type: 'application/pdf',
        channel: 'general',
      })
      const response = await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
      if (response.status === 201) result.uploaded++
      else {
        result.failed++
        result.error ??= `HTTP ${response.status}: ${await response.text()}`
      }
      await response.arrayBuffer().catch(() => {})
    }
  }
  try {
    await Promise.all(Array.from({ length: params.concurrency }, uploadOne))
  } finally {
    ws.close()
  }
  result.ms = performance.now() - start
  result.perSecond = result.uploaded / (result.ms / 1000)
  result.mibPerSecond = (result.uploaded * params.size) / 1048576 / (result.ms / 1000)
  return result
}

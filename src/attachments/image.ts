/** Raster formats whose bytes must carry their own signature, and whose header gives the size. */
export const CHECKED_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

export interface Dimensions {
  width: number
  height: number
}

const startsWith = (bytes: Uint8Array, signature: number[], at = 0) => signature.every((byte, i) => bytes[at + i] === byte)
const ascii = (bytes: Uint8Array, at: number, text: string) => startsWith(bytes, [...text].map((c) => c.charCodeAt(0)), at)

/** The image format the bytes' magic number names, if one of the checked ones. */
export function sniffImage(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return 'image/gif'
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return 'image/webp'
  return undefined
}

/** Width and height from the header of a PNG, GIF, JPEG or WebP; undefined when it cannot be read. */
export function imageDimensions(bytes: Uint8Array, mimeType: string): Dimensions | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const valid = (d: Dimensions | undefined) => (d && d.width > 0 && d.height > 0 ? d : undefined)
  try {
    switch (mimeType) {
      case 'image/png':
        return ascii(bytes, 12, 'IHDR') ? valid({ width: view.getUint32(16), height: view.getUint32(20) }) : undefined
      case 'image/gif':
        return valid({ width: view.getUint16(6, true), height: view.getUint16(8, true) })
      case 'image/webp':
        return valid(webpDimensions(bytes, view))
      case 'image/jpeg':
        return valid(jpegDimensions(bytes, view))
    }
  } catch (error) {
    // A header shorter than it claims: the DataView read ran past the end.
    if (error instanceof RangeError) return undefined
    throw error
  }
  return undefined
}

function webpDimensions(bytes: Uint8Array, view: DataView): Dimensions | undefined {
  const uint24 = (at: number) => view.getUint16(at, true) | (view.getUint8(at + 2) << 16)
  if (ascii(bytes, 12, 'VP8 ')) return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff }
  if (ascii(bytes, 12, 'VP8L')) {
    const bits = view.getUint32(21, true)
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (ascii(bytes, 12, 'VP8X')) return { width: uint24(24) + 1, height: uint24(27) + 1 }
  return undefined
}

/** Start-of-frame markers (baseline, progressive...), not DHT (C4), JPG (C8) or DAC (CC). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf])

function jpegDimensions(bytes: Uint8Array, view: DataView): Dimensions | undefined {
  let at = 2
  // Each step moves past one segment, so the walk ends within the file's length.
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined
    const marker = bytes[at + 1]!
    if (marker === 0xff) {
      at++
      continue
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2
      continue
    }
    const length = view.getUint16(at + 2)
    if (length < 2) return undefined
    if (SOF.has(marker)) return { height: view.getUint16(at + 5), width: view.getUint16(at + 7) }
    at += 2 + length
  }
  return undefined
}

import { timingSafeEqual } from 'node:crypto'

/** Equal strings, compared in time that depends only on the length (the lengths are not secret). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

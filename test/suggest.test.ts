import { expect, test } from 'bun:test'
import { closest, editDistance } from '../src/suggest.ts'

test('editDistance counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
  expect(editDistance('port', 'port')).toBe(0)
  expect(editDistance('prot', 'port')).toBe(1)
  expect(editDistance('hots', 'host')).toBe(1)
  expect(editDistance('sever', 'serve')).toBe(2)
  expect(editDistance('', 'abc')).toBe(3)
  expect(editDistance('kitten', 'sitting')).toBe(3)
})

test('closest suggests a near candidate, ignoring case, and nothing when none is near', () => {
  expect(closest('prot', ['host', 'port', 'max_payload'])).toBe('port')
  expect(closest('db', ['DB', 'websocket'])).toBe('DB')
  expect(closest('sever', ['setup', 'serve', 'import'])).toBe('serve')
  expect(closest('x', ['host', 'port'])).toBeUndefined()
  expect(closest('frobnicate', ['setup', 'serve', 'import', 'backup', 'version'])).toBeUndefined()
  expect(closest('anything', [])).toBeUndefined()
})

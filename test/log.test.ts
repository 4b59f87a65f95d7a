import { describe, expect, test } from 'bun:test'
import { createLogger, formatLine, quote, type LineLevel, type LogSettings } from '../src/log.ts'

const TIME = new Date('2025-01-02T03:04:05.678Z')

describe('formatLine', () => {
  test('text: ISO time, padded level, message; fields are for json only', () => {
    expect(formatLine('text', 'info', 'hello', { user: 'alice' }, TIME)).toBe('2025-01-02T03:04:05.678Z INFO  hello\n')
    expect(formatLine('text', 'error', 'broken', {}, TIME)).toBe('2025-01-02T03:04:05.678Z ERROR broken\n')
  })

  test('json: one object per line with time, level, msg and the fields, which cannot replace those three', () => {
    const line = formatLine('json', 'warn', 'two\nlines', { user: 'alice', level: 'debug', msg: 'forged', count: 2 }, TIME)
    expect(line.endsWith('\n')).toBe(true)
    expect(line.slice(0, -1)).not.toContain('\n')
    expect(JSON.parse(line)).toEqual({ time: '2025-01-02T03:04:05.678Z', level: 'warn', msg: 'two\nlines', user: 'alice', count: 2 })
  })
})

test('quote: a name with a newline or control characters cannot start a log line of its own', () => {
  const name = 'mallory\n2025-01-02T03:04:05.678Z INFO  connection 1 authenticated as "owner"\u0007'
  const line = formatLine('text', 'info', `connection 2 authenticated as ${quote(name)}`, {}, TIME)
  expect(line.split('\n')).toEqual([`2025-01-02T03:04:05.678Z INFO  connection 2 authenticated as ${quote(name)}`, ''])
  expect(quote(name)).toBe('"mallory\\n2025-01-02T03:04:05.678Z INFO  connection 1 authenticated as \\"owner\\"\\u0007"')
  expect(JSON.parse(quote(name))).toBe(name)
})

test('createLogger follows the level and format in force for each line, warnings and errors apart', () => {
  const settings: LogSettings = { level: 'info' }
  const written: Array<[LineLevel, string]> = []
  const log = createLogger(
    () => settings,
    (line, level) => written.push([level, line]),
  )
  log.debug('hidden')
  log.info('shown', { n: 1 })
  settings.level = 'warn'
  log.info('hidden too')
  log.warn('careful')
  settings.format = 'json'
  log.error('failed', { n: 2 })
  settings.level = 'silent'
  log.error('silenced')
  expect(written.map(([level, line]) => [level, line.replace(/^\S+Z /, 'TIME ').replace(/"time":"[^"]+"/, '"time":"TIME"')])).toEqual([
    ['info', 'TIME INFO  shown\n'],
    ['warn', 'TIME WARN  careful\n'],
    ['error', '{"time":"TIME","level":"error","msg":"failed","n":2}\n'],
  ])
})

import { expect, test } from 'bun:test'
import { Counter, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE, Registry } from '../../src/metrics/registry.ts'

test('counters and gauges render as HELP, TYPE and one sample, with escaping', () => {
  const registry = new Registry()
  const sent = registry.add(new Counter('app_sent_total', 'Frames sent.\nEscapes \\ too.'))
  const read = registry.add(new Counter('app_read_total', 'Read elsewhere.', () => 12.5))
  let temperature = 20
  registry.add(new Gauge('app_temperature', 'Read when scraped.', () => temperature))
  registry.add(new Gauge('app_info', 'Constant labels.', () => 1, { version: 'v"1"\\\nx', kind: 'a' }))
  registry.add(new Gauge('app_infinite', 'Infinities are spelled out.', () => -Infinity))
  sent.inc()
  sent.inc(2)
  temperature = -3.25
  expect({ sent: sent.value(), read: read.value() }).toEqual({ sent: 3, read: 12.5 })
  expect(registry.render()).toBe(
    [
      '# HELP app_sent_total Frames sent.\\nEscapes \\\\ too.',
      '# TYPE app_sent_total counter',
      'app_sent_total 3',
      '# HELP app_read_total Read elsewhere.',
      '# TYPE app_read_total counter',
      'app_read_total 12.5',
      '# HELP app_temperature Read when scraped.',
      '# TYPE app_temperature gauge',
      'app_temperature -3.25',
      '# HELP app_info Constant labels.',
      '# TYPE app_info gauge',
      'app_info{version="v\\"1\\"\\\\\\nx",kind="a"} 1',
      '# HELP app_infinite Infinities are spelled out.',
      '# TYPE app_infinite gauge',
      'app_infinite -Inf',
      '',
    ].join('\n'),
  )
})

test('a histogram counts each observation in the first bucket it fits and renders cumulative buckets', () => {
  const registry = new Registry()
  const latency = registry.add(new Histogram('app_latency_seconds', 'Latency.', [0.125, 0.5, 1]))
  // On a bound counts as inside it (le means "less or equal"); past the last bound only +Inf has it.
  // Binary fractions, so the sum is exact.
  for (const value of [0.0625, 0.125, 0.25, 0.75, 1, 3]) latency.observe(value)
  expect(registry.render()).toBe(
    [
      '# HELP app_latency_seconds Latency.',
      '# TYPE app_latency_seconds histogram',
      'app_latency_seconds_bucket{le="0.125"} 2',
      'app_latency_seconds_bucket{le="0.5"} 3',
      'app_latency_seconds_bucket{le="1"} 5',
      'app_latency_seconds_bucket{le="+Inf"} 6',
      'app_latency_seconds_sum 5.1875',
      'app_latency_seconds_count 6',
      '',
    ].join('\n'),
  )
})

test('an unlabelled histogram renders zeros before any observation', () => {
  const registry = new Registry()
  registry.add(new Histogram('app_size', 'Sizes.', [1, 10]))
  expect(registry.render()).toBe(
    [
      '# HELP app_size Sizes.',
      '# TYPE app_size histogram',
      'app_size_bucket{le="1"} 0',
      'app_size_bucket{le="10"} 0',
      'app_size_bucket{le="+Inf"} 0',
      'app_size_sum 0',
      'app_size_count 0',
      '',
    ].join('\n'),
  )
})

test('a labelled histogram has one series per label value seen, sorted, values escaped', () => {
  const registry = new Registry()
  const commands = registry.add(new Histogram('app_command_seconds', 'By command.', [0.5], 'cmd'))
  expect(registry.render()).toBe('# HELP app_command_seconds By command.\n# TYPE app_command_seconds histogram\n')
  commands.observe(0.25, 'pong')
  commands.observe(2, 'ping')
  commands.observe(0.5, 'ping')
  commands.observe(0.1, 'a"b\\c')
  expect(registry.render()).toBe(
    [
      '# HELP app_command_seconds By command.',
      '# TYPE app_command_seconds histogram',
      'app_command_seconds_bucket{cmd="a\\"b\\\\c",le="0.5"} 1',
      'app_command_seconds_bucket{cmd="a\\"b\\\\c",le="+Inf"} 1',
      'app_command_seconds_sum{cmd="a\\"b\\\\c"} 0.1',
      'app_command_seconds_count{cmd="a\\"b\\\\c"} 1',
      'app_command_seconds_bucket{cmd="ping",le="0.5"} 1',
      'app_command_seconds_bucket{cmd="ping",le="+Inf"} 2',
      'app_command_seconds_sum{cmd="ping"} 2.5',
      'app_command_seconds_count{cmd="ping"} 2',
      'app_command_seconds_bucket{cmd="pong",le="0.5"} 1',
      'app_command_seconds_bucket{cmd="pong",le="+Inf"} 1',
      'app_command_seconds_sum{cmd="pong"} 0.25',
      'app_command_seconds_count{cmd="pong"} 1',
      '',
    ].join('\n'),
  )
})

test('mistakes in metric definitions fail at registration', () => {
  const registry = new Registry()
  registry.add(new Counter('app_total', 'Once.'))
  expect(() => registry.add(new Counter('app_total', 'Twice.'))).toThrow('metric app_total registered twice')
  expect(() => registry.add(new Counter('app-total', 'Dash.'))).toThrow('invalid metric name app-total')
  expect(() => new Histogram('app_h', 'Unordered.', [1, 0.5])).toThrow('metric app_h: buckets must be finite and ascending')
  expect(() => new Histogram('app_h', 'Infinite.', [1, Infinity])).toThrow('metric app_h: buckets must be finite and ascending')
  expect(() => new Histogram('app_h', 'Reserved.', [1], 'le')).toThrow('metric app_h: "le" is reserved for buckets')
  expect(() => new Gauge('app_g', 'Bad label.', () => 0, { 'bad-name': 'x' })).toThrow('metric app_g: invalid label name bad-name')
})

test('the content type is the one Prometheus negotiates for text format 0.0.4', () => {
  expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8')
})

/**
 * Counters, gauges and histograms, rendered in the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Recording is a number
 * addition on preallocated storage, so it can sit on the message path.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

type Labels = Readonly<Record<string, string>>

interface Family {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  /** The sample lines, each ending in a newline. */
  samples(): string
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Go's float syntax, which Prometheus parses: infinities and NaN are spelled out. */
function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

const escapeLabelValue = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
const escapeHelp = (text: string) => text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))

function labelSet(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

function checkLabelNames(metric: string, labels: Labels) {
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`metric ${metric}: invalid label name ${name}`)
  }
}

/** A value that only goes up. `read` makes it report a total kept elsewhere (such as CPU time). */
export class Counter implements Family {
  readonly type = 'counter'
  private total = 0

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read?: () => number,
  ) {}

  inc(by = 1) {
    this.total += by
  }

  value(): number {
    return this.read ? this.read() : this.total
  }

  samples() {
    return `${this.name} ${formatNumber(this.value())}\n`
  }
}

/** A value that goes up and down, read when scraped. */
export class Gauge implements Family {
  readonly type = 'gauge'

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
    private readonly labels: Labels = {},
  ) {
    checkLabelNames(name, labels)
  }

  samples() {
    return `${this.name}${labelSet(this.labels)} ${formatNumber(this.read())}\n`
  }
}

/** Per-bucket counts (not yet cumulative), the sum and the count of one label value. */
class Series {
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(buckets: number) {
    this.counts = new Float64Array(buckets)
  }
}

/**
 * Observations counted into fixed buckets, optionally split by one label. A label value gets its
 * series on its first observation; the caller keeps the set of values small.
 */
export class Histogram implements Family {
  readonly type = 'histogram'
  private readonly series = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; `+Inf` is implied. */
    private readonly buckets: readonly number[],
    /** The label that splits the series, if any. */
    private readonly label?: string,
  ) {
    if (buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]!))) {
      throw new Error(`metric ${name}: buckets must be finite and ascending`)
    }
    if (label !== undefined) checkLabelNames(name, { [label]: '' })
    if (label === 'le') throw new Error(`metric ${name}: "le" is reserved for buckets`)
    if (label === undefined) this.series.set('', new Series(buckets.length))
  }

  observe(value: number, labelValue = '') {
    let series = this.series.get(labelValue)
    if (!series) this.series.set(labelValue, (series = new Series(this.buckets.length)))
    const bounds = this.buckets
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    // Past the last bound the observation is only in +Inf, which is the count.
    if (i < bounds.length) series.counts[i]!++
    series.sum += value
    series.count++
  }

  samples() {
    let text = ''
    const values = [...this.series.keys()].sort()
    for (const value of values) {
      const series = this.series.get(value)!
      const own: Labels = this.label === undefined ? {} : { [this.label]: value }
      let cumulative = 0
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]!
        text += `${this.name}_bucket${labelSet({ ...own, le: formatNumber(bound) })} ${cumulative}\n`
      })
      text += `${this.name}_bucket${labelSet({ ...own, le: '+Inf' })} ${series.count}\n`
      text += `${this.name}_sum${labelSet(own)} ${formatNumber(series.sum)}\n`
      text += `${this.name}_count${labelSet(own)} ${series.count}\n`
    }
    return text
  }
}

/** The metric families one endpoint exposes, in registration order. */
export class Registry {
  private readonly families: Family[] = []

  add<F extends Family>(family: F): F {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name ${family.name}`)
    if (this.families.some((f) => f.name === family.name)) throw new Error(`metric ${family.name} registered twice`)
    this.families.push(family)
    return family
  }

  render(): string {
    return this.families.map((f) => `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n${f.samples()}`).join('')
  }
}

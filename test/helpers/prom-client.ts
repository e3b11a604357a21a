/**
 * prometheus_client's metric classes, as far as multiprocess storage sees
 * them, on top of our RedisValue: which values a metric or a labelled child
 * creates (and when), and what inc/set/observe write. Lets a test replay one
 * scenario through Python (mmap files) and through us (Redis) op for op.
 */
import {floatToGoString} from '../../src/metrics/pyfloat.js'
import type {RedisStorageDict} from '../../src/storage/dict.js'
import {RedisValue} from '../../src/storage/value.js'

export type Kind = 'counter' | 'gauge' | 'histogram' | 'summary'

export interface MetricSpec {
  kind: Kind
  name: string
  help: string
  labelnames: string[]
  mode?: string
  /** Histogram upper bounds as repr text; +Inf is appended as prometheus_client does. */
  buckets?: string[]
}

type Child = {
  inc(a: number): Promise<void>
  dec(a: number): Promise<void>
  set(a: number): Promise<void>
  observe(a: number): Promise<void>
}

const num = (s: string) =>
  Number(
    s
      .replace(/^inf$/, 'Infinity')
      .replace(/^-inf$/, '-Infinity')
      .replace(/^nan$/, 'NaN'),
  )

async function makeChild(dict: RedisStorageDict, spec: MetricSpec, labelvalues: string[]): Promise<Child> {
  const v = (typ: string, name: string, names: string[], vals: string[], mode?: string) =>
    RedisValue.create(dict, {typ, metricName: spec.name, name, labelnames: names, labelvalues: vals, help: spec.help, multiprocessMode: mode})
  const unsupported = async () => {
    throw new Error(`unsupported on ${spec.kind}`)
  }
  switch (spec.kind) {
    case 'counter': {
      const total = await v('counter', `${spec.name}_total`, spec.labelnames, labelvalues)
      return {inc: (a) => total.inc(a), dec: unsupported, set: unsupported, observe: unsupported}
    }
    case 'gauge': {
      const g = await v('gauge', spec.name, spec.labelnames, labelvalues, spec.mode)
      return {inc: (a) => g.inc(a), dec: (a) => g.dec(a), set: (a) => g.set(a), observe: unsupported}
    }
    case 'summary': {
      const count = await v('summary', `${spec.name}_count`, spec.labelnames, labelvalues)
      const sum = await v('summary', `${spec.name}_sum`, spec.labelnames, labelvalues)
      return {inc: unsupported, dec: unsupported, set: unsupported, observe: async (a) => void (await count.inc(1), await sum.inc(a))}
    }
    case 'histogram': {
      const bounds = [...spec.buckets!.map(num), Infinity]
      const sum = await v('histogram', `${spec.name}_sum`, spec.labelnames, labelvalues)
      const buckets: RedisValue[] = []
      for (const b of bounds) buckets.push(await v('histogram', `${spec.name}_bucket`, [...spec.labelnames, 'le'], [...labelvalues, floatToGoString(b)]))
      return {
        inc: unsupported,
        dec: unsupported,
        set: unsupported,
        async observe(a) {
          await sum.inc(a)
          const i = bounds.findIndex((b) => a <= b)
          if (i !== -1) await buckets[i].inc(1)
        },
      }
    }
  }
}

/** One metric object of one worker: unlabelled ones create their values at once, like prometheus_client. */
export class WorkerMetric {
  private readonly children = new Map<string, Promise<Child>>()
  private constructor(
    private readonly dict: RedisStorageDict,
    private readonly spec: MetricSpec,
  ) {}

  static async create(dict: RedisStorageDict, spec: MetricSpec): Promise<WorkerMetric> {
    const m = new WorkerMetric(dict, spec)
    if (spec.labelnames.length === 0) await m.child(null)
    return m
  }

  child(labels: string[] | null): Promise<Child> {
    const key = JSON.stringify(labels)
    let c = this.children.get(key)
    if (!c) this.children.set(key, (c = makeChild(this.dict, this.spec, labels ?? [])))
    return c
  }
}

/**
 * Type tests: every line marked `@ts-expect-error` must fail to compile and every other line must
 * compile, under a strict consumer's settings (./tsconfig.json). `test/types.test.ts` runs tsc on
 * this file (the public `.d.ts` of the built package), so a regression in the public types fails
 * the test suite. Nothing here runs.
 */
import {
  rawJson, ScopeCache, ScopeView, type Item, type JsonPayload, type JsonValue, type Page, type RawJson, type WarmItem,
} from '@scopecache/core'

interface Message {
  text: string
  at?: number
  tags: string[]
  meta: { n: number | null; when: Date }
}

/** `same<Want>()(value)` compiles only when the value's type is exactly `Want`. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
declare function same<Want>(): <Got>(got: Got, ...exact: Equal<Got, Want> extends true ? [] : [never]) => void

declare const cache: ScopeCache
declare const m: Message
declare const j: JsonValue
declare const jp: JsonPayload
declare const u: unknown

export function writes(): void {
  // ---- what compiles: JSON values, interfaces of JSON members, rawJson
  cache.append('s', { a: 1, b: [1, 'x', null], c: { d: true } })
  cache.append('s', 'text')
  cache.append('s', 5, { id: 'a' })
  cache.append('s', [1, 2, 3] as const)
  cache.append('s', m)
  cache.append('s', jp)
  cache.append('s', rawJson('{"a":1}'))
  cache.append('s', new Date())
  cache.upsert('s', 'id', m)
  cache.update('s', { id: 'id' }, { n: 1 })
  cache.update('s', { seq: 1 }, rawJson(new Uint8Array([0x31])))
  cache.warm([{ scope: 's', payload: m }, { scope: 's', id: 'x', payload: rawJson('1') }])
  cache.rebuild([{ scope: 's', payload: { a: [1] } }])
  const generic = <T extends JsonPayload>(v: T): void => void cache.append('s', v)
  generic({ x: 1 })

  // ---- what does not: undefined, null, functions, bigints, symbols, Maps, unknown
  // @ts-expect-error undefined is not a payload
  cache.append('s', undefined)
  // @ts-expect-error null is not a payload (ScopeCache answers "the 'payload' field is required")
  cache.append('s', null)
  // @ts-expect-error a JsonValue may be null: narrow it first
  cache.append('s', j)
  // @ts-expect-error functions are not JSON
  cache.append('s', () => 1)
  // @ts-expect-error bigints make JSON.stringify throw
  cache.append('s', 10n)
  // @ts-expect-error nested too
  cache.append('s', { a: { b: [1n] } })
  // @ts-expect-error a method is dropped by JSON.stringify
  cache.upsert('s', 'id', { f(): number { return 1 } })
  // @ts-expect-error a Map stringifies to {}
  cache.update('s', { id: 'x' }, new Map([[1, 2]]))
  // @ts-expect-error symbols are dropped
  cache.append('s', { deep: [{ x: Symbol('q') }] })
  // @ts-expect-error an unknown value needs a cast
  cache.append('s', u)
  // @ts-expect-error warm items too
  cache.warm([{ scope: 's', payload: undefined }])
  // @ts-expect-error options are an object: a bare id string is refused (at run time too)
  cache.append('s', 1, 'myid')
  // @ts-expect-error unknown option keys are refused (at run time too)
  cache.append('s', 1, { id: 'a', ttl: 5 })
  // @ts-expect-error a typo in a store option
  ScopeCache.create({ maxStoreByte: 1 << 20 })
}

export function reads(): void {
  // raw: true → payloads are JSON text
  same<Item<string> | undefined>()(cache.get('s', { id: 'a' }, { raw: true }))
  same<Item<Message> | undefined>()(cache.get<Message>('s', { id: 'a' }))
  same<Item<Message> | undefined>()(cache.get<Message>('s', { id: 'a' }, { raw: false }))
  same<Item<unknown> | undefined>()(cache.get('s', { seq: 1 }))
  same<(Item<string> | undefined)[]>()(cache.getMany([{ scope: 's', id: 'a' }], { raw: true }))
  same<(Item<Message> | undefined)[]>()(cache.getMany<Message>([{ scope: 's', seq: 1 }]))
  same<Page<string>>()(cache.head('s', { afterSeq: 3, raw: true }))
  same<Page<Message>>()(cache.head<Message>('s', { afterSeq: 3 }))
  same<Page<string>>()(cache.tail('s', { limit: 5, raw: true }))
  same<Page<Message>>()(cache.tail<Message>('s'))
  same<Page<Message>>()(cache.tail<Message>('s', null))
  const flag = Math.random() > 0.5
  same<Page<Message> | Page<string>>()(cache.tail<Message>('s', { raw: flag }))
  same<string | undefined>()(cache.getRaw('s', { id: 'a' }))
  // @ts-expect-error a ref is exactly one of id or seq
  cache.get('s', { id: 'a', seq: 1 })
  // @ts-expect-error unknown read option
  cache.head('s', { after: 3 })
}

export function scopes(): void {
  const room = cache.scope<Message>('room:a')
  same<ScopeView<Message>>()(room)
  room.append(m)
  room.append(m, { id: 'm1' })
  room.append(rawJson('{"text":"x","tags":[],"meta":{"n":null,"when":"2026-01-01"}}'))
  room.upsert('m1', m)
  room.update({ seq: 1 }, m)
  same<Item<Message> | undefined>()(room.get({ id: 'm1' }))
  same<Item<string> | undefined>()(room.get({ id: 'm1' }, { raw: true }))
  same<string | undefined>()(room.getRaw({ seq: 1 }))
  same<Page<Message>>()(room.tail({ limit: 10 }))
  same<Page<string>>()(room.tail({ limit: 10, raw: true }))
  same<Page<Message>>()(room.head({ afterSeq: 2 }))
  same<Page<Message>>()(room.since(2))
  same<0 | 1>()(room.delete({ id: 'm1' }))
  same<number>()(room.trim({ keep: 10 }))
  // @ts-expect-error the view's payload type is Message
  room.append({ text: 1 })
  // @ts-expect-error even a valid JSON value of another shape
  room.upsert('m2', 'just text')
  const nums = cache.scope<number>('n')
  nums.append(5)
  // @ts-expect-error
  nums.append('5')
  const bad = cache.scope<{ big: bigint }>('b')
  // @ts-expect-error a view of a type with a bigint member accepts no value of it
  bad.append({ big: 1n })
  const any = cache.scope('any') // default: any JSON payload
  any.append({ a: 1 })
  // @ts-expect-error
  any.append(undefined)
}

export function lifecycle(): void {
  {
    using c = ScopeCache.create({ maxStoreBytes: 1 << 20, maxThreadSlots: 8 })
    c.append('s', 1)
  }
  same<() => void>()(cache[Symbol.dispose])
  same<number>()(cache.maxThreadSlots)
  same<{ total: number; free: number }>()(cache.threadSlots())
  const w: WarmItem<Message> = { scope: 's', payload: m }
  cache.warm([w])
  const raw: RawJson = rawJson('1')
  cache.append('s', raw)
}

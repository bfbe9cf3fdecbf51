/**
 * The final-state check of the stress writers (fixtures/threads-stress.mjs) for test/shm.test.ts,
 * the same rules as test/threads.test.ts's: the store holds exactly the acknowledged state of the
 * writers that report it — every surviving item once, at its seq, at its latest acknowledged
 * version; nothing else of theirs; the shared counter at the exact sum of acknowledged increments.
 * Items of writers that cannot report (a process killed at random instants) may be there or not,
 * but each must be whole: its id and text exactly one payloadText(w, n, v) of theirs.
 */
import type { ScopeCache } from '../../packages/core/dist/index.js'
import { checkText, itemId, payloadText, readAll } from '../fixtures/threads-common.mjs'

export interface WriterReport {
  role: 'writer'
  w: number
  acked: Record<string, number>
  failed: Record<string, number>
  counterSum: number
  /** [id, scope, n, version, seq] */
  live: [string, string, number, number, number][]
  violations: number
  bad: string[]
}

export interface ReaderReport {
  role: 'reader'
  w: number
  counts: Record<string, number>
  violations: number
  bad: string[]
}

export interface StateOptions {
  hot: string[]
  counter: { scope: string; id: string }
  /** Scopes only unreported writers write (checked item by item, not against a model). */
  foreignScope?: (scope: string) => boolean
  /** Writer numbers of the unreported writers. */
  foreignWriter?: (w: number) => boolean
  /** Counters in `counter.scope` besides `counter.id` (unreported writers' ones): any integer. */
  foreignCounters?: string[]
}

/** Problems found (empty: the store is exactly what the writers acknowledged); and the items walked. */
export function stressStateProblems(cache: ScopeCache, ws: WriterReport[], o: StateOptions): { problems: string[]; found: number; expectedItems: number } {
  const expected = new Map<string, Map<string, { seq: number; text: string }>>()
  let counterSum = 0
  let counterAdds = 0
  const problems: string[] = []
  for (const r of ws) {
    counterSum += r.counterSum
    counterAdds += r.acked.counterAdd ?? 0
    for (const [id, scope, n, v, seq] of r.live) {
      if (!expected.has(scope)) expected.set(scope, new Map())
      expected.get(scope)!.set(id, { seq, text: payloadText(r.w, n, v) })
    }
  }
  for (const [scope, ids] of expected) {
    for (const [id, want] of ids) {
      const got = cache.get(scope, { id })
      const raw = cache.getRaw(scope, { id })
      if (got === undefined || got.seq !== want.seq || raw !== want.text) problems.push(`${scope}/${id}: got ${got?.seq}: ${raw}, expected ${want.seq}: ${want.text}`)
    }
  }
  const foreignItem = (scope: string, seq: number, id: string | null, text: string): void => {
    const p = checkText(text)
    if (typeof p === 'string') problems.push(`${scope} seq ${seq}: ${p}`)
    else if (!(o.foreignWriter?.(p.w) ?? false) || id !== itemId(p.w, p.n)) problems.push(`${scope} seq ${seq}: item ${id} holds (w,n)=(${p.w},${p.n})`)
  }
  const listed = cache.scopeList({ limit: 10_000 }).scopes
  let found = 0
  for (const row of listed) {
    const items = readAll(cache, row.scope) as [number, string | null, string][]
    found += items.length
    if (row.itemCount !== items.length) problems.push(`${row.scope}: scopeList says ${row.itemCount} items, head walk found ${items.length}`)
    if (row.scope === o.counter.scope) {
      for (const [, id, text] of items) {
        if (id === o.counter.id) {
          if (text !== String(counterSum)) problems.push(`counter ${id}: ${text}, expected ${counterSum} (sum of acknowledged increments)`)
        } else if (!(o.foreignCounters ?? []).includes(id as string) || !Number.isSafeInteger(Number(text))) {
          problems.push(`counter scope: unexpected ${id}: ${text}`)
        }
      }
      if (counterAdds > 0 && !items.some(([, id]) => id === o.counter.id)) problems.push(`counter ${o.counter.id} missing`)
      continue
    }
    if (o.foreignScope?.(row.scope) === true) {
      for (const [seq, id, text] of items) foreignItem(row.scope, seq, id, text)
      continue
    }
    if (!o.hot.includes(row.scope) && !/^own:\d+$/.test(row.scope)) problems.push(`unexpected scope ${row.scope}`)
    const want = expected.get(row.scope) ?? new Map<string, { seq: number; text: string }>()
    const seen = new Set<string>()
    for (const [seq, id, text] of items) {
      const w = want.get(id as string)
      if (seen.has(id as string)) problems.push(`${row.scope}/${id} twice (seq ${seq})`)
      else if (w === undefined) {
        const p = checkText(text)
        if (typeof p !== 'string' && (o.foreignWriter?.(p.w) ?? false)) foreignItem(row.scope, seq, id, text)
        else problems.push(`${row.scope}/${id} (seq ${seq}) was not expected: deleted, failed, or never written`)
      } else if (w.seq !== seq || w.text !== text) problems.push(`${row.scope}/${id}: seq ${seq} ${text}, expected seq ${w.seq} ${w.text}`)
      seen.add(id as string)
    }
    for (const id of want.keys()) if (!seen.has(id)) problems.push(`${row.scope}/${id} missing from the head walk`)
  }
  for (const scope of expected.keys()) if (expected.get(scope)!.size > 0 && !listed.some((r) => r.scope === scope)) problems.push(`scope ${scope} missing`)
  const expectedItems = [...expected.values()].reduce((a, m) => a + m.size, 0) + (counterAdds > 0 ? 1 : 0)
  return { problems, found, expectedItems }
}

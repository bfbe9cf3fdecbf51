// The core's source layout rules (packages/core/README.md § Source layout): imports point one way,
// so no module imports one that imports it back (type-only imports are erased and do not count),
// the reaper never imports the class, and no file grows far past the ~400 lines a concern should fit.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))
const MAX_LINES = 450

/** file → the sibling modules it imports at run time (`import type` and `export type … from` excluded). */
function runtimeImports(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(SRC + file, 'utf8')
    const deps = new Set<string>()
    for (const m of text.matchAll(/^(import|export)(?! type )[^;]*?from '\.\/([\w-]+)\.js'/gms)) deps.add(`${m[2]}.ts`)
    graph.set(file, [...deps])
  }
  return graph
}

/** The strongly connected components of more than one module (Tarjan): each is an import circle. */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  let next = 0
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = []
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w)
        comp.push(w)
        if (w === v) break
      }
      if (comp.length > 1) out.push(comp.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

describe('core source layout', () => {
  const graph = runtimeImports()

  it('reads the sources it checks', () => {
    expect(graph.size).toBeGreaterThan(30)
    expect(graph.get('cache.ts')).toContain('read.ts')
  })

  it('has no import circle', () => {
    expect(circles(graph)).toEqual([])
  })

  it('finds a circle when there is one (the checker itself)', () => {
    const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]])
    expect(circles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']])
  })

  it('the reaper never imports the class', () => {
    const reached = new Set<string>()
    const walk = (f: string): void => {
      for (const d of graph.get(f) ?? []) if (!reached.has(d)) (reached.add(d), walk(d))
    }
    walk('reaper.ts')
    expect(reached.has('cache.ts')).toBe(false)
  })

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const long = [...graph.keys()].map((f) => [f, readFileSync(SRC + f, 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES)
    expect(long).toEqual([])
  })
})

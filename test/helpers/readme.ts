/**
 * What the READMEs promise, read the way tests need it: their fenced code blocks (the runnable ones,
 * the files they bring along, the output they print) and their tables of error codes.
 *
 * Markers (documented in the root README's Testing section):
 *   ```js runnable                 a snippet test/pack-install.test.ts runs, as an ES module, in a
 *                                  directory where only the packed and installed packages exist
 *   ```js runnable file=NAME.mjs   a file a runnable snippet of the same README imports (written, not run)
 *   ```text output                 right after a runnable snippet: what it prints, 16-digit timestamps
 *                                  (µs since the epoch) compared as any 16 digits
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Readme {
  /** Path from the repository root: `README.md`, `packages/pool/README.md`. */
  path: string
  text: string
}

/** The root README, every package's and the benchmarks'. */
export function readmes(): Readme[] {
  const paths = ['README.md', ...readdirSync(`${ROOT}packages`).sort().map((p) => `packages/${p}/README.md`), 'benchmarks/README.md']
  return paths.filter((path) => existsSync(ROOT + path)).map((path) => ({ path, text: readFileSync(ROOT + path, 'utf8') }))
}

export interface Block {
  /** The info string's words: ['js', 'runnable', 'file=x.mjs']. */
  info: string[]
  body: string
  /** 1-based line of the opening fence. */
  line: number
}

export function fencedBlocks(text: string): Block[] {
  const lines = text.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!)
    if (!open) continue
    const start = i
    while (++i < lines.length && lines[i] !== '```');
    blocks.push({ info: open[1]!.trim().split(/\s+/).filter(Boolean), body: lines.slice(start + 1, i).join('\n') + '\n', line: start + 1 })
  }
  return blocks
}

export interface Snippet {
  readme: string
  line: number
  body: string
  /** Set for a `file=NAME` block: written beside the snippets, not run. */
  file: string | undefined
  /** The `text output` block that follows, if any. */
  output: string | undefined
}

/** Every `runnable` block of every README, in order, with the output block that follows it. */
export function runnableSnippets(): Snippet[] {
  const out: Snippet[] = []
  for (const r of readmes()) {
    const blocks = fencedBlocks(r.text)
    blocks.forEach((b, k) => {
      if (!b.info.includes('runnable')) return
      const next = blocks[k + 1]
      const file = b.info.find((w) => w.startsWith('file='))?.slice('file='.length)
      out.push({ readme: r.path, line: b.line, body: b.body, file, output: next?.info.includes('output') ? next.body : undefined })
    })
  }
  return out
}

/** A snippet's printed output as a pattern: timestamps (16 digits, µs since the epoch) match any 16 digits. */
export function outputPattern(expected: string): RegExp {
  const escaped = expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\b\d{16}\b/g, '\\d{16}')
  return new RegExp(`^${escaped}$`)
}

export interface CodeRow {
  code: string
  /** The row's `HTTP`/`status` cell as a number, if the table has that column. */
  status: number | undefined
}

/**
 * The tables of error codes in each `## Errors` section: every table with a column headed `code`,
 * one row per backticked code in that column (a cell may list several).
 */
export function errorCodeTables(text: string): CodeRow[][] {
  const tables: CodeRow[][] = []
  for (const section of text.split(/^## /m).filter((s) => /^Errors\b/.test(s))) {
    let header: string[] | undefined
    let rows: CodeRow[] | undefined
    for (const line of [...section.split('\n'), '']) {
      if (!line.startsWith('|')) {
        if (rows) tables.push(rows)
        header = rows = undefined
        continue
      }
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim())
      if (header === undefined) {
        header = cells
        if (cells.includes('code')) rows = []
        continue
      }
      if (!rows || cells.every((c) => /^:?-+:?$/.test(c))) continue
      const statusCell = cells[header.findIndex((h) => h === 'HTTP' || h === 'status')]
      const status = statusCell === undefined ? undefined : Number(statusCell)
      for (const m of (cells[header.indexOf('code')] ?? '').matchAll(/`([a-z_]+)`/g)) rows.push({ code: m[1]!, status })
    }
  }
  return tables
}

/** GitHub's anchor for each heading (lowercase; punctuation but `-` and `_` dropped; spaces to `-`; repeats numbered). */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const m of withoutCode(text).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

/** The targets of the markdown links outside code blocks that stay in the repository (no scheme). */
export function localLinks(text: string): string[] {
  return [...withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t))
}

function withoutCode(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, (c) => (c.includes('](') ? '' : c))
}

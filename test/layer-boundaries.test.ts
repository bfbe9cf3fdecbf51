/**
 * What each package may know of another (issue 11, "the cut"): the limits and rule messages are
 * one table in the core that the other layers import rather than restate; HTTP statuses belong to
 * the HTTP package, not the store; the invariant checker is for tests only — no production module
 * imports it and the core package neither exports nor packs it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as core from '../packages/core/dist/index.js'
import { HTTP_STATUS, HttpError, httpStatusOf } from '../packages/http/dist/index.js'
import { ROOT } from './helpers/readme.js'

const sources = (pkg: string): { path: string; text: string }[] => {
  const dir = join(ROOT, 'packages', pkg, 'src')
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[cm]?ts$/.test(f))
    .map((f) => ({ path: `packages/${pkg}/src/${f}`, text: code(readFileSync(join(dir, f), 'utf8')) }))
}
/** The source without its comments (a comment may quote a message; code must not). */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1')
const importsOf = (text: string): string[] => [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1] as string)

describe('one table of limits and messages', () => {
  const fixed = Object.entries(core.MESSAGES).filter((e): e is [string, string] => typeof e[1] === 'string')

  it('no other package restates a message of the table as a literal', () => {
    expect(fixed.length).toBeGreaterThan(10)
    for (const pkg of ['http', 'redis', 'cli', 'pool']) {
      for (const { path, text } of sources(pkg)) {
        for (const [name, message] of fixed) {
          for (const q of ['"', "'", '`']) expect(text.includes(q + message + q), `${path} restates MESSAGES.${name}`).toBe(false)
        }
      }
    }
  })

  it('no other package re-words a message function of the table in a template', () => {
    const templates = Object.entries(core.MESSAGES)
      .filter((e): e is [string, (f: string) => string] => typeof e[1] === 'function' && e[1].length === 1)
      .map(([name, fn]) => [name, fn('${field}')] as const)
    expect(templates.length).toBeGreaterThan(3)
    for (const pkg of ['http', 'redis', 'cli', 'pool']) {
      for (const { path, text } of sources(pkg)) {
        for (const [name, t] of templates) expect(text.includes(t), `${path} re-words MESSAGES.${name}`).toBe(false)
        expect(text.includes("', item at index ${"), `${path} re-words MESSAGES.bulkItem`).toBe(false)
      }
    }
  })

  it('the core defines each limit once, in limits.ts, which imports nothing', () => {
    const files = sources('core').filter((f) => !f.path.endsWith('/internals.ts'))
    const limits = files.find((f) => f.path.endsWith('/limits.ts'))
    expect(limits && importsOf(limits.text)).toEqual([])
    for (const { path, text } of files) {
      if (path.endsWith('/limits.ts')) continue
      expect(/scope '\$\{[^}]*\}', item at index|86_400_000|= 10_000\b|= 256\b|the maximum nesting depth/.test(text), `${path} restates a limit or the bulk wording`).toBe(false)
    }
  })
})

describe('HTTP statuses live in the HTTP package', () => {
  it('the core exports no status table and its errors carry no status', () => {
    expect('HTTP_STATUS' in core).toBe(false)
    const e = new core.ScopeCacheError('scope_full', 'scope is at capacity')
    expect('status' in e).toBe(false)
  })

  it('httpStatusOf maps a store error by its code, an HttpError by its own, anything else to 500', () => {
    for (const code of Object.keys(HTTP_STATUS) as (keyof typeof HTTP_STATUS)[]) {
      expect(httpStatusOf(new core.ScopeCacheError(code, 'x')), code).toBe(HTTP_STATUS[code])
      expect(httpStatusOf(core.ScopeCacheError.fromWire(structuredClone(new core.ScopeCacheError(code, 'x').toWire()))), code).toBe(HTTP_STATUS[code])
    }
    expect([HTTP_STATUS.scope_full, HTTP_STATUS.invalid_input, HTTP_STATUS.conflict, HTTP_STATUS.lock_timeout]).toEqual([507, 400, 409, 503])
    expect(httpStatusOf(new HttpError('body_too_large', 'x'))).toBe(413)
    expect(httpStatusOf(Object.assign(new Error('x'), { code: 'scope_full' }))).toBe(500) // not a ScopeCacheError
    expect(httpStatusOf(new Error('x'))).toBe(500)
    expect(httpStatusOf('a string')).toBe(500)
  })
})

describe('the invariant checker is test-only', () => {
  it('no production module imports it', () => {
    for (const pkg of ['core', 'http', 'redis', 'cli', 'pool']) {
      for (const { path, text } of sources(pkg)) {
        if (path === 'packages/core/src/internals.ts') continue
        expect(importsOf(text).filter((s) => /internals(\.js)?$/.test(s)), path).toEqual([])
      }
    }
  })

  it('the core package neither exports nor packs it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/core/package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] }
    expect(Object.keys(pkg.exports)).toEqual(['.', './scanner']) // (the scanner entry is for @scopecache/http)
    expect(JSON.stringify(pkg.exports)).not.toMatch(/internals/)
    expect(pkg.files).toEqual(expect.arrayContaining(['!dist/internals.*', '!src/internals.ts']))
    expect('checkInvariants' in core).toBe(false)
  })
})

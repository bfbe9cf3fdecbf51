/**
 * The READMEs hold to the code: every table of error codes lists exactly the codes of the exported
 * union, each with its status (as undici's test/errors.js holds its docs to its error classes), and
 * every link into the repository reaches an existing file and heading. (Their runnable snippets are
 * run by pack-install.test.ts, against the packed packages.)
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, HTTP_STATUS, HttpError } from '../packages/http/dist/index.js'
import { POOL_ERROR_CODES } from '../packages/pool/dist/index.js'
import { errorCodeTables, headingAnchors, localLinks, readmes, ROOT } from './helpers/readme.js'

const coreCodes = Object.keys(HTTP_STATUS)
const status = (code: string): number | undefined => (HTTP_STATUS as Record<string, number>)[code]
const httpStatus = (code: string): number => new HttpError(code as (typeof ERROR_CODES)[number], '').status

/** Which exported union each README's tables document, and the status each code maps to (if any). */
const EXPECTED: Record<string, { codes: readonly string[]; status?: (code: string) => number | undefined }> = {
  'README.md': { codes: coreCodes, status },
  'packages/http/README.md': { codes: ERROR_CODES, status: httpStatus },
  'packages/pool/README.md': { codes: POOL_ERROR_CODES },
}

describe('README error tables', () => {
  for (const r of readmes()) {
    const tables = errorCodeTables(r.text)
    it(`${r.path}: ${tables.length} table(s) of codes, each matching its union`, () => {
      const want = EXPECTED[r.path]
      if (!want) return expect(tables, `${r.path} has a code table but no union to check it against`).toEqual([])
      expect(tables.length, `${r.path} has no '## Errors' table with a 'code' column`).toBeGreaterThan(0)
      for (const rows of tables) {
        expect([...new Set(rows.map((x) => x.code))].sort()).toEqual([...want.codes].sort())
        for (const row of rows) {
          if (want.status && row.status !== undefined) expect(row.status, `${r.path}: status of ${row.code}`).toBe(want.status(row.code))
        }
      }
    })
  }

  it('the HTTP layer answers every core code with its HTTP_STATUS', () => {
    for (const code of coreCodes) expect(httpStatus(code), code).toBe(status(code))
  })
})

describe('README links', () => {
  for (const r of readmes()) {
    it(`${r.path}: every local link reaches a file and, with #, a heading`, () => {
      for (const link of localLinks(r.text)) {
        const [path = '', anchor] = link.split('#')
        const file = path === '' ? join(ROOT, r.path) : join(ROOT, dirname(r.path), decodeURIComponent(path))
        expect(existsSync(file), `${r.path} links ${link}: no such file`).toBe(true)
        if (anchor !== undefined && file.endsWith('.md')) {
          expect([...headingAnchors(readFileSync(file, 'utf8'))], `${r.path} links ${link}: no such heading`).toContain(anchor)
        }
      }
    })
  }
})

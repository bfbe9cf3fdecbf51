/**
 * Every README's table of error codes lists exactly the codes the code can throw, each with its
 * status (as undici's test/errors.js holds its docs to its error classes): a code added to a union
 * and not to the docs, or documented and gone, fails here.
 */
import { describe, expect, it } from 'vitest'
import { HTTP_STATUS } from '../packages/core/dist/index.js'
import { ERROR_CODES, HttpError } from '../packages/http/dist/index.js'
import { POOL_ERROR_CODES } from '../packages/pool/dist/index.js'
import { errorCodeTables, readmes } from './helpers/readme.js'

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

  it('the HTTP layer answers every core code with the core status', () => {
    for (const code of coreCodes) expect(httpStatus(code), code).toBe(status(code))
  })
})

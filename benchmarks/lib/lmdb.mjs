// An lmdb-js environment in a temporary directory holding ids → JSON texts, for the suites that put
// lmdb-js beside the store; when lmdb cannot open here, the peer is recorded as skipped with the reason.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** → { db, path, close } or null (then `skipped` says why). */
export async function openLmdb({ n, ids, texts }, skipped) {
  try {
    const { open } = await import('lmdb')
    const path = mkdtempSync(join(tmpdir(), 'scopecache-bench-lmdb-'))
    const db = open({ path, encoding: 'string' })
    db.transactionSync(() => { for (let i = 0; i < n; i++) db.putSync(ids[i], texts[i]) })
    return { db, path, close: async () => { await db.close(); rmSync(path, { recursive: true, force: true }) } }
  } catch (e) {
    skipped.push({ what: 'lmdb-js', why: `could not open a database: ${e.message}` })
    return null
  }
}

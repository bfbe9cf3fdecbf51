// Lets a suite file run on its own: `node benchmarks/suites/<id>.mjs [--quick]` prints its result JSON.
import { pathToFileURL } from 'node:url'

export async function runIfMain(meta, suite) {
  if (!process.argv[1] || meta.url !== pathToFileURL(process.argv[1]).href) return
  const r = await suite.run({ quick: process.argv.includes('--quick'), progress: (m) => process.stderr.write(m + '\n') })
  console.log(JSON.stringify(r, null, 2))
}

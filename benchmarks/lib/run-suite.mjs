// Child-process driver: imports one suite file, runs it, sends the result to the runner over IPC.
// Each suite runs in a fresh process so one suite's JIT state, heap and threads cannot skew the next.
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const [file, ...rest] = process.argv.slice(2)
const quick = rest.includes('--quick')
try {
  const suite = (await import(pathToFileURL(resolve(file)).href)).default
  if (!suite || typeof suite.run !== 'function') throw new Error(`${file} has no default export with run()`)
  const t0 = performance.now()
  const r = await suite.run({ quick, progress: (m) => process.send({ progress: String(m) }) })
  process.send({ result: { id: suite.id, title: suite.title, ...r, seconds: Math.round((performance.now() - t0) / 100) / 10 } })
} catch (e) {
  process.send({ error: e?.stack ?? String(e) })
}
process.disconnect()

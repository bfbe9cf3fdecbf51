// CPU time a process has used so far: utime + stime from /proc/<pid>/stat (all its threads), in µs.
// Read before and after a load run and divided by the requests served, it gives CPU time per request,
// which stays steady on a shared machine where requests/s does not. null where there is no /proc.
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let ticksPerSec
function clockTicks() {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
}

export function procCpuMicros(pid = process.pid) {
  let stat
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  // Fields after "pid (comm) ": state is field 3, utime 14, stime 15 (man 5 proc).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  ticksPerSec ??= clockTicks()
  return ((Number(f[14 - 3]) + Number(f[15 - 3])) * 1e6) / ticksPerSec
}

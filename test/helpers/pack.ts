/**
 * Tools for test/pack-install.test.ts: run a command with a bound, pack the workspace with the pinned
 * pnpm, read a tarball, and the third-party versions the repository's lockfile pins.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { ROOT } from './readme.js'

export interface Ran {
  /** null when it was killed (the timeout) or could not start. */
  status: number | null
  stdout: string
  /** stderr, and why it failed to start or end if it did. */
  stderr: string
}

/**
 * Runs a command to its end, killed (with its process group: npx's children too) after `timeoutMs`.
 * Asynchronous, so the test runner's own messages keep flowing meanwhile.
 */
export function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n${cmd} ${args.join(' ')}: killed after ${timeoutMs} ms`
      try { process.kill(-child.pid!, 'SIGKILL') } catch { child.kill('SIGKILL') }
    }, timeoutMs)
    const end = (status: number | null): void => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    }
    child.on('error', (e) => { stderr += `\n${cmd}: ${e.message}`; end(null) })
    child.on('close', (code, signal) => end(signal === null ? code : null))
  })
}

/** Runs a command and throws with its output unless it exits 0; returns its stdout. */
export async function runOk(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const r = await run(cmd, args, cwd, timeoutMs)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}${r.stderr}`)
  return r.stdout
}

const rootPackage = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  packageManager: string
  devDependencies: Record<string, string>
}

/**
 * pnpm as this run can reach it: the pnpm that runs `pnpm test` (npm_execpath), else the pinned
 * version through npx, so a machine with only Node and npm works.
 */
export function pnpmCommand(): [string, string[]] {
  const execpath = process.env.npm_execpath
  if (execpath !== undefined && basename(execpath).startsWith('pnpm') && /\.[cm]?js$/.test(execpath)) return [process.execPath, [execpath]]
  return ['npx', ['-y', rootPackage.packageManager]]
}

/** `pnpm pack`s every package under packages/ into `dest` (pnpm rewrites `workspace:*` to the version). */
export async function packAll(dest: string): Promise<void> {
  const [cmd, pre] = pnpmCommand()
  await runOk(cmd, [...pre, '-r', '--filter', './packages/*', 'pack', '--pack-destination', dest], ROOT, 60_000)
}

/** Unpacks a tarball into `dir` (as `dir/package/…`) and lists its files, relative to `package/`. */
export async function unpack(tarball: string, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true })
  await runOk('tar', ['-xzf', tarball, '-C', dir], ROOT, 10_000)
  const files: string[] = []
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(dir, 'package', rel), { withFileTypes: true })) {
      if (d.isDirectory()) walk(join(rel, d.name))
      else files.push(join(rel, d.name))
    }
  }
  walk('')
  return files.sort()
}

/** A root devDependency's pinned version (`@types/node`, `typescript`). */
export const rootDevVersion = (name: string): string => rootPackage.devDependencies[name] ?? 'latest'

/**
 * name → version for every third-party package pnpm-lock.yaml pins at exactly one version: given to
 * npm as `overrides`, so the consumer installs what the repository tests with (names pinned at several
 * versions are left to npm's resolution).
 */
export function lockedVersions(): Record<string, string> {
  const lock = readFileSync(`${ROOT}pnpm-lock.yaml`, 'utf8')
  const section = lock.slice(lock.indexOf('\npackages:\n'), lock.indexOf('\nsnapshots:\n'))
  const versions = new Map<string, Set<string>>()
  for (const m of section.matchAll(/^ {2}'?((?:@[^/@]+\/)?[^@'\s]+)@([^'(:\s]+)'?:$/gm)) {
    const set = versions.get(m[1]!) ?? new Set<string>()
    set.add(m[2]!)
    versions.set(m[1]!, set)
  }
  return Object.fromEntries([...versions].filter(([, v]) => v.size === 1).map(([name, v]) => [name, [...v][0]!]))
}

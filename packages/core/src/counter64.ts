/**
 * 64-bit event counters in two header words (low, high), for stats() and /metrics: bumped with
 * one atomic add (and a second on the rare carry), read as low + high × 2^32. A reader racing a
 * carry may see the sum 2^32 off for an instant; these are statistics, not fences.
 */
export function add64(i32: Int32Array, lo: number, n: number): void {
  const before = Atomics.add(i32, lo, n) >>> 0
  if (before + n > 0xffffffff) Atomics.add(i32, lo + 1, 1)
}

export function read64(i32: Int32Array, lo: number): number {
  return (Atomics.load(i32, lo + 1) >>> 0) * 2 ** 32 + (Atomics.load(i32, lo) >>> 0)
}

/** The store's clock: microseconds since the Unix epoch, from the monotonic high-resolution timer. */
const ORIGIN_MS = performance.timeOrigin

export const nowMicros = (): number => Math.round((ORIGIN_MS + performance.now()) * 1000)

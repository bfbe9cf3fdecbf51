export { createCoherentCache, CoherentCache } from './coherent.js'
export { COHERENT_OPTION_KEYS, type CoherentCacheOptions, type CoherenceMode } from './options.js'
export type { CoherenceStats, LinkState } from './stats.js'
export { shardKeys, shardOf } from './keys.js'

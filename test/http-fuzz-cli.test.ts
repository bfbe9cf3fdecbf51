/** The malformed-request fuzz (http-fuzz.test.ts) against the real `scopecache serve` over TCP. */
process.env['SCOPECACHE_TEST_TARGET'] = 'cli'
await import('./http-fuzz.test.js')

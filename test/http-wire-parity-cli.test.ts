/** The wire-parity suite (http-wire-parity.test.ts) against the built `scopecache serve` over TCP. */
process.env['SCOPECACHE_TEST_TARGET'] = 'cli'
await import('./http-wire-parity.test.js')

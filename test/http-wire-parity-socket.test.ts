/** The wire-parity suite (http-wire-parity.test.ts) against `scopecache serve --socket PATH`. */
process.env['SCOPECACHE_TEST_TARGET'] = 'cli-socket'
await import('./http-wire-parity.test.js')

/** The conformance suite (http-conformance.test.ts) against `scopecache serve --socket PATH`. */
process.env['SCOPECACHE_TEST_TARGET'] = 'cli-socket'
await import('./http-conformance.test.js')

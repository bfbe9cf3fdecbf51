/**
 * The conformance suite (http-conformance.test.ts) once more, against the real `scopecache serve`
 * (the built CLI) over TCP, and once over a Unix socket (http-conformance-socket.test.ts).
 */
process.env['SCOPECACHE_TEST_TARGET'] = 'cli'
await import('./http-conformance.test.js')

/**
 * What piscina loads: a CommonJS module whose export is the promise of runner.js's task function.
 * piscina first require()s its filename; on Node 20.19+ a require() of an ES module instantiates it
 * synchronously, and a worker terminated in the middle of that (a pool closing while a worker
 * starts) aborts the whole process in Node 20 (V8: "IsGraphAsync must be used on an instantiated
 * module"). runner.js also has top-level await, which require() cannot load anyway. From CommonJS,
 * runner.js is reached by import(), which a termination merely cancels.
 */
export = import('./runner.js').then((m) => m.default)

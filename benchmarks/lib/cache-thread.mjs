// The "cache in another thread" peer: a worker holding a Map<string,string> of the dataset,
// asked one key at a time. mode 'postMessage' answers raw messages; mode 'comlink' exposes
// { get(key) } with comlink over the same port.
import { parentPort, workerData } from 'node:worker_threads'
import * as Comlink from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { dataset } from './data.mjs'

const { ids, texts } = dataset()
const map = new Map(ids.map((id, i) => [id, texts[i]]))
if (workerData.mode === 'comlink') {
  Comlink.expose({ get: (key) => map.get(key) }, nodeEndpoint(parentPort))
} else {
  parentPort.on('message', (key) => parentPort.postMessage(map.get(key)))
}
parentPort.postMessage('ready')

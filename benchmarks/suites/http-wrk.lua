-- wrk script for benchmarks/suites/http.mjs: GET /get of a random id of the benchmark scope. Each wrk
-- thread pre-formats 20 000 random requests in init() and cycles through them, so Lua costs a table
-- lookup per request instead of string formatting (wrk shares the cores with the server). done()
-- prints a JSON summary: requests, duration, errors, latency percentiles in µs.
local items = tonumber(os.getenv("BENCH_ITEMS") or "50000")
local scope = os.getenv("BENCH_SCOPE") or "bench"
local reqs = {}
local n = 0
local i = 0

function setup(thread)
  thread:set("seed", math.random(1, 2147483647))
end

function init(args)
  math.randomseed(seed or os.time())
  for k = 1, 20000 do
    local id = string.format("item:%06d", math.random(0, items - 1))
    reqs[k] = wrk.format("GET", "/get?scope=" .. scope .. "&id=" .. id)
  end
  n = #reqs
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

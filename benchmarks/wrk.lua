-- wrk script for benchmarks/endpoint.py: one GET target, optionally made unique per
-- request (a trailing SPARQL comment), and a JSON summary on stdout at the end.
-- Set by the caller: WRK_TARGET (path and query string), WRK_ACCEPT, WRK_DISTINCT
-- ("1": append "\n# request RUN-THREAD-N", URL-encoded), WRK_RUN (unique per run).

local target = os.getenv("WRK_TARGET")
local distinct = os.getenv("WRK_DISTINCT") == "1"
local run_id = os.getenv("WRK_RUN") or "0"
wrk.headers["Accept"] = os.getenv("WRK_ACCEPT")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local n = 0
function request()
  if not distinct then
    return wrk.format("GET", target)
  end
  n = n + 1
  return wrk.format("GET", target .. "%0A%23+request+" .. run_id .. "-" .. thread_id .. "-" .. n)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "mean_us": %.1f, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write,
    e.status, e.timeout))
end

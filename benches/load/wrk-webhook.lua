-- wrk script for benches/load/run.sh: POSTs one real signed GitHub `push` delivery per request,
-- with a unique X-GitHub-Delivery each time (per-thread id + counter). The body comes from
-- $PAYLOAD and its precomputed signature from $SIGNATURE (wrk's Lua has no HMAC).
-- Globals, not locals: setup() runs in the main Lua state and thread:set() writes a global in
-- each thread's state, which a chunk-level local of the same name would shadow.
counter = 0
tid = 0
local next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end
function init(args)
  local f = io.open(os.getenv("PAYLOAD"), "rb"); wrk.body = f:read("*a"); f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = "push"
  wrk.headers["X-Hub-Signature-256"] = os.getenv("SIGNATURE")
end
function request()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("%s-%d-%d", os.getenv("RUNID") or "run", tid, counter)
  return wrk.format()
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

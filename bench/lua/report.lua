-- Shared by every bench script: done() prints one machine-readable line that run.sh collects.
-- Errors are wrk's: socket errors plus responses with a status above 399.
local function json_line(summary, latency, extra)
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"rps":%.2f', summary.requests / (summary.duration / 1e6)),
    string.format('"p50_us":%d', latency:percentile(50)),
    string.format('"p90_us":%d', latency:percentile(90)),
    string.format('"p99_us":%d', latency:percentile(99)),
    string.format('"max_us":%d', latency.max),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.status, e.timeout),
  }
  for k, v in pairs(extra or {}) do parts[#parts + 1] = string.format('"%s":%s', k, v) end
  io.write("BENCH-RESULT {" .. table.concat(parts, ",") .. "}\n")
end

bench_threads = {}
function setup(thread)
  thread:set("thread_index", #bench_threads)
  table.insert(bench_threads, thread)
end

function done(summary, latency, requests)
  local extra = {}
  if bench_extra then extra = bench_extra(bench_threads) end
  json_line(summary, latency, extra)
end

-- GETs of records picked at random: BENCH_PREFIX followed by a 7-digit number from 1 to BENCH_COUNT
-- (/v1/firms/bench-firm-0000001 ... on the generated database), so no cache sees the same record twice in a row.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local prefix = os.getenv("BENCH_PREFIX")
local count = tonumber(os.getenv("BENCH_COUNT"))

function init(args)
  math.randomseed(7 + thread_index)
end

function request()
  return wrk.format("GET", string.format("%s%07d", prefix, math.random(count)))
end

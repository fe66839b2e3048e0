-- A collection asked for as CSV.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
wrk.headers["Accept"] = "text/csv"

-- A conditional GET: If-None-Match carries the ETag the server sent for this URL, so each answer is a 304.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
wrk.headers["If-None-Match"] = os.getenv("BENCH_ETAG")

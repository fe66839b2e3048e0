-- Mixed load: GETs of records by id, and BENCH_PATCH_PERCENT (10) percent PATCHes of the same records.
-- BENCH_POOL names a file of "path<TAB>etag<TAB>version" lines. Each wrk thread owns a disjoint share of the records and
-- patches a record only when no PATCH of it is in flight, sending as If-Match the newest ETag it has seen for it in
-- this run (the answer with the highest "version" wins; a record is first read, never patched from the pool's ETag,
-- which an earlier round may have made stale), so a correct server answers every request 2xx.
-- BENCH_TRACK_VERSION=0 (the limit and json-server: versions that do not move) patches with the pool's ETag and frees
-- a record on any answer naming it instead.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local percent = tonumber(os.getenv("BENCH_PATCH_PERCENT") or "10")
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
local track = os.getenv("BENCH_TRACK_VERSION") ~= "0"
local api_key = os.getenv("BENCH_API_KEY") or ""
local content_type = os.getenv("BENCH_PATCH_TYPE") or "application/merge-patch+json"

local paths, known, busy = {}, {}, {}
patches, skipped, stale = 0, 0, 0

function init(args)
  math.randomseed(1000 + thread_index)
  local i = 0
  for line in io.lines(os.getenv("BENCH_POOL")) do
    local path, etag, version = line:match("^([^\t]+)\t([^\t]*)\t?(%d*)$")
    if path then
      if i % threads == thread_index then
        local id = path:match("([^/]+)$")
        paths[#paths + 1] = path
        if track then etag = nil end
        known[id] = { path = path, etag = etag, version = track and -1 or (tonumber(version) or 0) }
      end
      i = i + 1
    end
  end
  if #paths == 0 then error("no records in " .. os.getenv("BENCH_POOL") .. " for thread " .. thread_index) end
end

local function free_record()
  for _ = 1, 8 do
    local path = paths[math.random(#paths)]
    local id = path:match("([^/]+)$")
    local b = busy[id]
    -- A PATCH whose answer was never matched (a 412, a body without the record) releases its record after a while:
    -- 2 s by the clock (os.time counts whole seconds, so at least 1 s), not a count of answers. While a commit waits on
    -- a slow disk, cached GETs go on answering on the other connections, and thousands of answers can pass while a PATCH
    -- is still in flight: a record released then was patched again with the ETag before that PATCH, a 412.
    if b and os.time() - b.at >= 2 then busy[id] = nil; b = nil end
    if not b and (known[id].etag or not track) then return id end
  end
end

function request()
  if math.random(100) <= percent then
    local id = free_record()
    if id then
      local record = known[id]
      busy[id] = { version = record.version, at = os.time() }
      patches = patches + 1
      local body = string.format('{"description":"Updated by the load benchmark, patch %d of thread %d."}', patches, thread_index)
      return wrk.format("PATCH", record.path, {
        ["If-Match"] = record.etag or "*", ["X-Api-Key"] = api_key, ["Content-Type"] = content_type,
      }, body)
    end
    skipped = skipped + 1
  end
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  if status == 412 then stale = stale + 1 end
  if not body then return end
  local id = body:match('"id":%s*"([^"]+)"')
  local record = id and known[id]
  if not record then return end
  local version = tonumber(body:match('"version":%s*(%d+)') or "")
  local etag = headers["ETag"] or headers["etag"] or headers["Etag"]
  if not track or not version then
    busy[id] = nil
    return
  end
  if version >= record.version then
    record.version = version
    if etag then record.etag = etag end
  end
  local b = busy[id]
  if b and version > b.version then busy[id] = nil end
end

function bench_extra(all)
  local p, s, st = 0, 0, 0
  for _, t in ipairs(all) do
    p = p + t:get("patches"); s = s + t:get("skipped"); st = st + t:get("stale")
  end
  return { patches = p, patches_skipped = s, status_412 = st }
end

-- wrk script for scripts/loadtest/run.sh: each request takes the next path of a fixed mix
-- (set by run.sh in PATHS, space-separated) and every status code is counted, so 503s
-- (load shedding) are told apart from other failures.
local paths = {}
for p in string.gmatch(os.getenv("PATHS") or "/", "%S+") do
  paths[#paths + 1] = p
end
local threads = {}
local n = 0

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init()
  statuses = {}
  -- Threads start at different places in the mix.
  n = id
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done()
  local total = {}
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("statuses")) do
      total[code] = (total[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(total) do
    parts[#parts + 1] = code .. "=" .. count
  end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
end

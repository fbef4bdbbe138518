-- The two sides of bench/login_flood.sh as wrk workloads:
--   wrk ... -s bench/wrk/flood.lua http://127.0.0.1:PORT -- login        a login flood
--   wrk ... -s bench/wrk/flood.lua http://127.0.0.1:PORT -- me TOKEN     reads of /users/me
--   wrk ... -s bench/wrk/flood.lua http://127.0.0.1:PORT -- anonymous    /users/me without a token
--     (answered 401 at once: what a flood of cheap requests from as many connections costs)
-- Each login names a user nobody registered (as an attacker's would, and so that no login limit
-- per name ever answers it without a hash). Prints one RESULT line (errors: failed sockets, and
-- for reads any answer but 2xx/3xx) and the count of each status.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

local op, token, counter
-- A global: done() reads each thread's counts with thread:get.
statuses = {}

function init(args)
   op = args[1]
   token = args[2]
   counter = 0
   statuses = {}
end

local json = { ["Content-Type"] = "application/json" }

function request()
   counter = counter + 1
   if op == "me" then
      return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. token })
   elseif op == "anonymous" then
      return wrk.format("GET", "/api/v1/users/me")
   end
   local body = string.format('{"login":"flood_%d_%d","password":"not the password"}', tid, counter)
   return wrk.format("POST", "/api/v1/auth/login", json, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
   if op == "me" then
      -- A read answered 503 failed; a refused login is an answer the flood expects.
      errors = errors + summary.errors.status
   end
   io.write(string.format("RESULT %.1f %.3f %.3f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
      latency.max / 1000, errors, summary.requests))
   local total = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         total[status] = (total[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(total) do
      table.insert(parts, string.format("%d=%d", status, n))
   end
   table.sort(parts)
   io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end

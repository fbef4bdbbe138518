-- One API operation as a wrk workload:
--   wrk -t2 -c32 -d20s -s bench/wrk/op.lua http://127.0.0.1:PORT -- OP DATA.lua
-- DATA.lua returns { password = "...", users = { {token, username, id, project, creator, posts = {...}}, ... } }.
-- Each thread works on its own share of the users (and of their posts, so that two connections
-- never change one post at once); PATCH sends the version it last saw in If-Match, and the
-- versions seen are kept in the file BENCH_VERSIONS names, for the next run of wrk.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   thread:set("nthreads", 0)
   table.insert(threads, thread)
   for _, t in ipairs(threads) do
      t:set("nthreads", #threads)
   end
end

local op, data, mine, posts, versions, counter

function init(args)
   op = args[1]
   data = dofile(args[2])
   counter = 0
   mine = {}
   posts = {}
   versions = {}
   local known = {}
   local saved = os.getenv("BENCH_VERSIONS")
   if saved then
      local chunk = loadfile(saved)
      if chunk then
         known = chunk()
      end
   end
   for i, user in ipairs(data.users) do
      if (i - 1) % nthreads == tid then
         table.insert(mine, user)
      end
      for j, post in ipairs(user.posts or {}) do
         if ((i - 1) * 1000 + j) % nthreads == tid then
            table.insert(posts, { token = user.token, id = post })
            versions[post] = known[post] or 1
         end
      end
   end
end

local json = { ["Content-Type"] = "application/json" }

local function auth(token, extra)
   local headers = { ["Authorization"] = "Bearer " .. token }
   for k, v in pairs(extra or {}) do
      headers[k] = v
   end
   return headers
end

function request()
   counter = counter + 1
   local user = mine[(counter % #mine) + 1]
   if op == "me" then
      return wrk.format("GET", "/api/v1/users/me", auth(user.token))
   elseif op == "projects" then
      return wrk.format("GET", "/api/v1/projects?limit=20", auth(user.token))
   elseif op == "project_posts" then
      return wrk.format("GET", "/api/v1/projects/" .. user.project .. "/posts?limit=20", auth(user.token))
   elseif op == "creator_posts" then
      return wrk.format("GET", "/api/v1/creators/" .. user.creator .. "/posts?limit=20", auth(user.token))
   elseif op == "create_post" then
      local body = string.format('{"title":"Bench %d %d","body":"%s","status":"published"}', tid, counter,
         string.rep("Load test text. ", 60))
      return wrk.format("POST", "/api/v1/projects/" .. user.project .. "/posts", auth(user.token, json), body)
   elseif op == "patch_post" then
      local post = posts[(counter % #posts) + 1]
      local headers = auth(post.token, json)
      headers["If-Match"] = '"' .. versions[post.id] .. '"'
      local body = string.format('{"title":"Edited %d %d"}', tid, counter)
      return wrk.format("PATCH", "/api/v1/posts/" .. post.id, headers, body)
   elseif op == "login" then
      local body = string.format('{"login":"%s","password":"%s"}', user.username, data.password)
      return wrk.format("POST", "/api/v1/auth/login", json, body)
   end
end

function response(status, headers, body)
   if op == "patch_post" and status == 200 then
      local id = body:match('^{"id":"([%x%-]+)"')
      local version = body:match('"version":(%d+)')
      if id and version then
         versions[id] = tonumber(version)
      end
   end
end

function done(summary, latency, requests)
   local saved = os.getenv("BENCH_VERSIONS")
   if saved then
      local lines = { "return {" }
      for _, thread in ipairs(threads) do
         for id, version in pairs(thread:get("versions") or {}) do
            table.insert(lines, string.format('  ["%s"] = %d,', id, version))
         end
      end
      table.insert(lines, "}")
      local file = io.open(saved, "w")
      file:write(table.concat(lines, "\n"), "\n")
      file:close()
   end
   local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
      + summary.errors.status
   io.write(string.format("RESULT %.1f %.3f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, errors,
      summary.requests))
end

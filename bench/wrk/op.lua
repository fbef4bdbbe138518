-- One API operation as a wrk workload:
--   wrk -t2 -c32 -d20s -s bench/wrk/op.lua http://127.0.0.1:PORT -- OP DATA.lua
-- DATA.lua returns { password = "...", users = { {token, username, id, project, creator, posts = {...}}, ... } }.
--   wrk -tTHREADS ... -- patch_post DATA.lua SLICE SLICES THREADS
-- Each thread works on its own share of the users (and of their posts, so that two connections
-- never change one post at once). PATCH sends the version it last saw in If-Match; every run of
-- wrk patches a slice of the posts of its own (SLICE of SLICES), whose versions it knows from
-- the start (1, as seeded).

local threads = {}

-- wrk runs each thread's init() right after its setup(), before the next thread exists: the
-- number of threads comes as an argument (THREADS, after SLICES), not from setup().
function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

local op, data, mine, posts, versions, counter

function init(args)
   op = args[1]
   data = dofile(args[2])
   counter = 0
   mine = {}
   posts = {}
   versions = {}
   local slice, slices = tonumber(args[3] or "0"), tonumber(args[4] or "1")
   nthreads = tonumber(args[5] or "1")
   for i, user in ipairs(data.users) do
      if (i - 1) % nthreads == tid then
         table.insert(mine, user)
      end
      for j, post in ipairs(user.posts or {}) do
         if ((i - 1) * 1000 + j) % (nthreads * slices) == tid + nthreads * slice then
            table.insert(posts, { token = user.token, id = post })
            versions[post] = 1
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
      local id = body:match('"id":"([%x%-]+)","project_id"')
      local version = body:match('"version":(%d+)')
      if id and version then
         versions[id] = tonumber(version)
      end
   end
end

function done(summary, latency, requests)
   local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
      + summary.errors.status
   io.write(string.format("RESULT %.1f %.3f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, errors,
      summary.requests))
end

-- wrk script for gatehouse (and any server with the same register / login / Bearer GET API).
--
--   wrk -t2 -c8  -d15s --timeout 30s -s bench/gatehouse.lua http://127.0.0.1:8002 -- register PREFIX
--   wrk -t2 -c8  -d15s --timeout 30s -s bench/gatehouse.lua http://127.0.0.1:8002 -- login USERS_FILE
--   wrk -t2 -c64 -d15s --timeout 30s -s bench/gatehouse.lua http://127.0.0.1:8002 -- get TOKEN /verify
--
-- Modes
--   register PREFIX     POST /register {"username": PREFIX.."-"..thread.."-"..n, "password": ...};
--                       every thread counts on its own, so names never repeat within one run.
--                       The password is long, not on any common list and never the username.
--   login USERS_FILE    POST /login with valid credentials, round-robin over the file's lines
--                       "username password"; each thread starts at a different line.
--   get TOKEN PATH [HEADER...]
--                       GET PATH (/verify, /me, /users/me) with "Authorization: Bearer TOKEN"
--                       and each further argument "Name: value" as a header (the original
--                       request's X-Forwarded-* of bench/verify_rules.py); the request is
--                       built once (static), so wrk's fast path is used.
--   tokens FILE PATH    GET PATH round-robin over the tokens in FILE (one per line), as many
--                       users' pages would; the requests are built once, at start.
--   post FILE PATH      POST PATH with the JSON bodies of FILE (one per line) round-robin
--                       (/password/forgot for known and unknown accounts); built once, at start.
--   form FILE PATH      the same with the lines of FILE as application/x-www-form-urlencoded
--                       bodies (POST /token's client_credentials grant, bench/oidc.py).
--
-- Requests go over keep-alive HTTP/1.1 connections. Errors are wrk's own counters:
-- connect, read, write, timeout, and status (any response with status >= 400; a 200 or
-- 204 is a success). At the end one line is printed:
--   BENCHJSON {"requests":..,"duration_us":..,"errors":{..},"latency_us":{"p50":..,...}}

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("thread_no", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

-- per-thread state (each wrk thread has its own Lua state)
local mode
local static_req
local prefix
local counter = 0
local bodies
local nbodies = 0
local idx = 0

local json_headers = { ["Content-Type"] = "application/json" }
local form_headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function need(v, what)
   if v == nil or v == "" then
      error("gatehouse.lua: missing " .. what .. " (modes: register PREFIX | login USERS_FILE | get TOKEN PATH | tokens FILE PATH | post FILE PATH | form FILE PATH)")
   end
   return v
end

function init(args)
   mode = need(args[1], "mode")
   if mode == "register" then
      prefix = need(args[2], "PREFIX") .. "-" .. tostring(thread_no) .. "-"
   elseif mode == "login" then
      local file = need(args[2], "USERS_FILE")
      bodies = {}
      for line in io.lines(file) do
         local u, p = line:match("^%s*(%S+)%s+(%S+)%s*$")
         if u then
            bodies[#bodies + 1] = '{"username":"' .. u .. '","password":"' .. p .. '"}'
         end
      end
      nbodies = #bodies
      if nbodies == 0 then
         error("gatehouse.lua: no 'user password' lines in " .. file)
      end
      -- spread the threads over the list
      idx = (thread_no * 7) % nbodies
   elseif mode == "get" then
      local token = need(args[2], "TOKEN")
      local path = need(args[3], "PATH")
      local headers = { ["Authorization"] = "Bearer " .. token }
      for i = 4, #args do
         local name, value = args[i]:match("^([^:]+):%s*(.*)$")
         headers[need(name, "Name: value in '" .. args[i] .. "'")] = value
      end
      static_req = wrk.format("GET", path, headers)
   elseif mode == "tokens" then
      local file = need(args[2], "FILE")
      local path = need(args[3], "PATH")
      bodies = {}
      for line in io.lines(file) do
         local t = line:match("^%s*(%S+)%s*$")
         if t then
            bodies[#bodies + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. t })
         end
      end
      nbodies = #bodies
      if nbodies == 0 then
         error("gatehouse.lua: no tokens in " .. file)
      end
      idx = (thread_no * 4999) % nbodies
   elseif mode == "post" then
      local file = need(args[2], "FILE")
      local path = need(args[3], "PATH")
      bodies = {}
      for line in io.lines(file) do
         if line:match("^%s*{") then
            bodies[#bodies + 1] = wrk.format("POST", path, json_headers, line)
         end
      end
      nbodies = #bodies
      if nbodies == 0 then
         error("gatehouse.lua: no JSON bodies in " .. file)
      end
      idx = (thread_no * 4999) % nbodies
   elseif mode == "form" then
      local file = need(args[2], "FILE")
      local path = need(args[3], "PATH")
      bodies = {}
      for line in io.lines(file) do
         if line:match("=") then
            bodies[#bodies + 1] = wrk.format("POST", path, form_headers, line)
         end
      end
      nbodies = #bodies
      if nbodies == 0 then
         error("gatehouse.lua: no form bodies in " .. file)
      end
      idx = (thread_no * 4999) % nbodies
   else
      error("gatehouse.lua: unknown mode '" .. tostring(mode) .. "' (register | login | get | tokens | post | form)")
   end
end

function request()
   if mode == "get" then
      return static_req
   elseif mode == "tokens" or mode == "post" or mode == "form" then
      idx = idx % nbodies + 1
      return bodies[idx]
   elseif mode == "register" then
      counter = counter + 1
      local n = tostring(counter)
      return wrk.format("POST", "/register", json_headers,
         '{"username":"' .. prefix .. n .. '","password":"Wrk-bench-' .. n .. '-not-common!"}')
   else
      idx = idx % nbodies + 1
      return wrk.format("POST", "/login", json_headers, bodies[idx])
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local total = e.connect + e.read + e.write + e.timeout + e.status
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"total":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status, total,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end

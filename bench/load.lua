-- wrk script for bench/run: one request shape per run, every response checked.
--
-- Environment (set by bench/run):
--   BENCH_METHOD  HTTP method (POST)            BENCH_BODY    request body; "@IP@" in it becomes a
--   BENCH_TOKEN   bearer token, empty for none                 fresh IPv6 address per request
--   BENCH_EXPECT  text every good body contains BENCH_FORBID  text no good body contains
--   BENCH_SALT    0..65535, makes the addresses of this run unlike any earlier run's
-- done() prints one "BENCH key=value ..." line that bench/run parses.

local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local expect = os.getenv("BENCH_EXPECT") or ""
local forbid = os.getenv("BENCH_FORBID") or ""
local salt = tonumber(os.getenv("BENCH_SALT") or "0") % 65536

wrk.method = os.getenv("BENCH_METHOD") or "POST"
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

-- Per-thread state (each wrk thread has its own Lua state); read back in done().
bad = 0
sample = ""
tid = 0

-- BENCH_FORWARDED: each thread poses as a client of its own behind the (trusted) loopback proxy;
-- "@TID@" in the body becomes the thread's number (a login user of its own).
if os.getenv("BENCH_FORWARDED") or body:find("@TID@", 1, true) then
  function request()
    -- wrk.format uses the table given instead of wrk.headers, so start from a copy of them.
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    if os.getenv("BENCH_FORWARDED") then
      headers["X-Forwarded-For"] = string.format("198.51.100.%d", tid)
    end
    return wrk.format(nil, nil, headers, (body:gsub("@TID@", tostring(tid))))
  end
elseif body:find("@IP@", 1, true) then
  local counter = 0
  function request()
    counter = counter + 1
    -- 2001:db8:<salt>:<thread>:<counter/2^32>:<counter>... stays unique within and across runs.
    local ip = string.format("2001:db8:%x:%x:%x:%x::1", salt, tid, math.floor(counter / 65536), counter % 65536)
    return wrk.format(nil, nil, nil, (body:gsub("@IP@", ip)))
  end
end

function response(status, headers, resp)
  local good = status >= 200 and status < 300
  if good and expect ~= "" and not resp:find(expect, 1, true) then
    good = false
  end
  if good and forbid ~= "" and resp:find(forbid, 1, true) then
    good = false
  end
  if not good then
    bad = bad + 1
    if sample == "" then
      sample = status .. " " .. resp:sub(1, 300):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local total_bad, first_sample = 0, ""
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    local s = thread:get("sample") or ""
    if first_sample == "" then
      first_sample = s
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d socket_errors=%d status_errors=%d bad=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, total_bad))
  if first_sample ~= "" then
    io.write("BENCH_SAMPLE " .. first_sample .. "\n")
  end
end

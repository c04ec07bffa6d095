-- wrk script: replay pre-signed webhook requests (bench/make_requests.py), each at most once,
-- and count answers. Usage: wrk -t2 -c32 -d10s --latency -s bench/webhook.lua URL -- FILE
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  local nthreads = tonumber(args[2] or "2")
  requests, accepted, duplicate, other, replayed = {}, 0, 0, 0, 0
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id - 1 then
      local path, msg_id, ts, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
      local headers = {
        ["Content-Type"] = "application/json",
        ["webhook-id"] = msg_id,
        ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig,
      }
      requests[#requests + 1] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
  index = 0
end

function request()
  index = index + 1
  if index > #requests then
    index = 1
    replayed = replayed + 1 -- ran out of distinct requests: repeats will answer "duplicate"
  end
  return requests[index]
end

function response(status, headers, body)
  if status == 200 then
    if body:find("accepted", 1, true) then accepted = accepted + 1 else duplicate = duplicate + 1 end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, d, o, r = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("accepted")
    d = d + thread:get("duplicate")
    o = o + thread:get("other")
    r = r + thread:get("replayed")
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"accepted": %d, "duplicate": %d, "non_200": %d, "socket_errors": %d, "replayed_pool": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    a, d, o, errors, r))
end

-- wrk script for bench/webhook.py: replays pre-signed Twilio webhook requests.
-- Arguments: FILE [DELAY_MS]. FILE has one request per line: signature TAB form body.
-- Each wrk thread takes every n-th line (n = $WRK_THREADS), so while the file lasts no
-- request is sent twice; "wrapped" in the summary says whether it ran out.
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local total = tonumber(os.getenv("WRK_THREADS") or "1")
  delay_ms = tonumber(args[2] or "0")
  entries = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % total == index then
      local tab = line:find("\t", 1, true)
      table.insert(entries, {line:sub(1, tab - 1), line:sub(tab + 1)})
    end
    n = n + 1
  end
  position = 0
  wrapped = 0
end

function delay()
  return delay_ms
end

function request()
  position = position + 1
  if position > #entries then
    position = 1
    wrapped = wrapped + 1
  end
  local entry = entries[position]
  return wrk.format("POST", "/twilio/sms", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = entry[1],
  }, entry[2])
end

function done(summary, latency, requests)
  local wrapped_total = 0
  for _, thread in ipairs(threads) do
    wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, '
      .. '"non_2xx": %d, "socket_errors": %d, "wrapped": %d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    wrapped_total))
end

-- Shared by every scenario: POST JSON to /graphql, count GraphQL-level errors (HTTP 200
-- with an "errors" member) as errors too, and print one JSON line of results at the end.

local M = {}

local threads = {}

function M.setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function M.init_thread()
  graphql_errors = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function M.count(status, body)
  if status ~= 200 or (body and string.find(body, '"errors"', 1, true)) then
    graphql_errors = graphql_errors + 1
  end
end

function M.done(summary, latency, requests)
  local graphql = 0
  for _, thread in ipairs(threads) do
    graphql = graphql + (thread:get("graphql_errors") or 0)
  end
  local e = summary.errors
  local transport = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99),
    transport + graphql))
end

-- Reads one line per entry from a file.
function M.lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(out, line) end
  end
  return out
end

return M

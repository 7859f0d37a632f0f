-- A fixed query with a fixed credential. Environment:
--   LK_QUERY   the GraphQL query text (default `{ me { id username } }`)
--   LK_AUTH    an `Authorization` header value, if any
--   LK_COOKIE  a `Cookie` header value, if any
package.path = package.path .. ";" .. os.getenv("LK_LUA_DIR") .. "/?.lua"
local common = require("common")

setup = common.setup
done = common.done

local query = os.getenv("LK_QUERY") or "{ me { id username } }"
local body = '{"query":"' .. query:gsub('"', '\\"') .. '"}'

function init(args)
  common.init_thread()
  wrk.body = body
  local auth = os.getenv("LK_AUTH")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
  local cookie = os.getenv("LK_COOKIE")
  if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
end

function response(status, headers, body)
  common.count(status, body)
end

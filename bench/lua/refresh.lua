-- Refresh-token rotation: each thread owns LK_PER_THREAD refresh tokens (one per
-- connection, and spares) from the file LK_TOKENS, and replaces each token by its
-- successor from the answer, so every request presents a live, never-used token: the
-- real rotation path.
package.path = package.path .. ";" .. os.getenv("LK_LUA_DIR") .. "/?.lua"
local common = require("common")

setup = common.setup
done = common.done

local pool = {}

function init(args)
  common.init_thread()
  local all = common.lines(os.getenv("LK_TOKENS"))
  local per_thread = tonumber(os.getenv("LK_PER_THREAD"))
  local first = (id or 0) * per_thread
  for i = 1, per_thread do
    table.insert(pool, all[first + i])
  end
end

function request()
  -- A failed refresh yields no successor; keep the connection busy with a dead token
  -- (counted as an error) rather than stopping the run.
  local token = table.remove(pool) or "exhausted"
  local body = '{"query":"mutation($t:String){ refresh(refreshToken:$t){ refreshToken } }",'
    .. '"variables":{"t":"' .. token .. '"}}'
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  common.count(status, body)
  local successor = body and string.match(body, '"refreshToken":"([%w_%-]+)"')
  if successor then table.insert(pool, successor) end
end

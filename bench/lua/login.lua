-- Logins, round-robin over the seeded accounts (LK_USERS: a file of usernames; every
-- account has the password LK_PASSWORD).
package.path = package.path .. ";" .. os.getenv("LK_LUA_DIR") .. "/?.lua"
local common = require("common")

setup = common.setup
done = common.done

local users, password, next_user

function init(args)
  common.init_thread()
  users = common.lines(os.getenv("LK_USERS"))
  password = os.getenv("LK_PASSWORD")
  next_user = id or 0
end

function request()
  next_user = next_user + 1
  local user = users[(next_user % #users) + 1]
  local body = '{"query":"mutation($u:String!,$p:String!){ login(input:{username:$u,password:$p}){ expiresAt } }",'
    .. '"variables":{"u":"' .. user .. '","p":"' .. password .. '"}}'
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  common.count(status, body)
end

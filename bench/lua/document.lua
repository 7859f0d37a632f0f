-- A fixed request body read from a file: the hostile documents of the attack scenario.
-- Environment:
--   LK_BODY_FILE  a file holding the whole JSON body ({"query": ...})
package.path = package.path .. ";" .. os.getenv("LK_LUA_DIR") .. "/?.lua"
local common = require("common")

setup = common.setup
done = common.done

local file = assert(io.open(os.getenv("LK_BODY_FILE"), "rb"))
local body = file:read("*a")
file:close()

function init(args)
  common.init_thread()
  wrk.body = body
end

function response(status, headers, body)
  common.count(status, body)
end

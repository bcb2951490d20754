-- The create / list ids[] / read / delete cycle of bench/stateful.py, for wrk.
-- Each wrk thread keeps the ids it saw created, newest last: it lists and reads the
-- newest and deletes the oldest once it holds more than 16 (so nothing read is gone).
-- The API root is the URL's path (the mock's /v.1.0, Prism's /).

local prefix = ""
local counter = 0
local ids = {}
local seen = {}
local pickup = '{"date":"2025-04-02","address":{"city":"Gdynia","street":"Morska 5"},'
  .. '"contactPhone":"48500100200"}'

function init(args)
  prefix = wrk.path:gsub("/$", "")
end

local function with_json()
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Content-Type"] = "application/json"
  return headers
end

function request()
  counter = counter + 1
  local step = counter % 4
  local newest = ids[#ids]
  if step == 1 and newest then
    return wrk.format("GET", prefix .. "/pickups?ids[]=" .. newest .. "&limit=10")
  elseif step == 2 and newest then
    return wrk.format("GET", prefix .. "/pickups/" .. newest)
  elseif step == 3 and #ids > 16 then
    return wrk.format("DELETE", prefix .. "/pickups/" .. table.remove(ids, 1))
  end
  return wrk.format("POST", prefix .. "/pickups", with_json(), pickup)
end

-- Only ids the path takes (minimum 1): Prism's bodies made from the schema carry id 0.
function response(status, headers, body)
  local id = body:match('"id":%s*(%d+)')
  if id and tonumber(id) > 0 and not seen[id] then
    seen[id] = true
    table.insert(ids, id)
  end
end

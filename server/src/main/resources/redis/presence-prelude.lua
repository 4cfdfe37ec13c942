-- The start of every presence script that changes a room (RedisPresence); the script's own part follows it.
-- KEYS: entries, users, offline. ARGV: node, ttl (ms), then per script. Every script first sweeps
-- the room's dead entries: `gone` lists the users left with none, whom the caller announces offline.
-- `offline` holds a tombstone for each user announced offline (by a sweep or a last leave) until
-- they have an entry again, kept for an hour: a refresh that brings one back announces it online
-- again, and a leave never announces an offline twice. A user swept and written again in the same
-- call is in neither list: their presence did not change.
local entries, users, offline, node, ttl = KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = string.format('%.0f', now + ttl)
local gone, swept = {}, {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', entries, '-inf', string.format('%.0f', now))) do
  redis.call('ZREM', entries, m)
  -- An entry is <node>|<user>, split at the first '|': a node id has none (RedisPresence checks), a user name may.
  local user = string.sub(m, string.find(m, '|', 1, true) + 1)
  if redis.call('HINCRBY', users, user, -1) <= 0 then
    redis.call('HDEL', users, user)
    gone[#gone + 1] = user
    swept[user] = true
  end
end
-- 0: the entry existed or the user has others; 1: first entry, silently; 2: first after an offline announcement
local function add(user)
  if redis.call('ZADD', entries, expiry, node .. '|' .. user) == 0 or redis.call('HINCRBY', users, user, 1) > 1 then return 0 end
  local announced = redis.call('HDEL', offline, user) == 1
  if swept[user] then swept[user] = false return 0 end
  return announced and 2 or 1
end
local function finish()
  local out = {}
  for _, user in ipairs(gone) do
    if swept[user] then
      out[#out + 1] = user
      redis.call('HSET', offline, user, 1)
    end
  end
  redis.call('PEXPIRE', offline, 3600000)
  redis.call('PEXPIRE', entries, 2 * ttl)
  redis.call('PEXPIRE', users, 2 * ttl)
  return out
end

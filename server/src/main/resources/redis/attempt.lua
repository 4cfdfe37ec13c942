-- One attempt under a key (auth.RedisAttempts), counted in one step for every node of a cluster.
-- KEYS[1]: the key, a hash {n: attempts counted, last: when the last was counted, ms by Redis's clock}
-- ARGV: free attempts, window ms, base ms, cap ms (AttemptCounter.Rule)
-- Returns 0 when the attempt is counted, else the milliseconds until the next one may be.
-- The same rule as LocalAttempts.count: keep the two in step.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free, window, base, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'n', 'last')
local n, last = tonumber(v[1]), tonumber(v[2])
if n == nil or last == nil or now - last >= window then
  n = 0
elseif n >= free then
  local shift = math.min(n - free, 30)
  local need = math.min(cap, base * 2 ^ shift)
  if now - last < need then
    return math.floor(need - (now - last))
  end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], window)
return 0

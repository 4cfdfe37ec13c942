-- A successful attempt under KEYS[1] (auth.RedisAttempts): one attempt less, the key gone at none.
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n == nil then return 0 end
if n <= 1 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0

-- After presence-prelude.lua. ARGV[3]: the user. Returns {1 if last, gone}. Last means the user has
-- no entry left and nobody announced them offline yet: also when Redis had lost this node's entry (a
-- restart), so that they do not stay online forever on the other nodes, and still only once.
local user, last = ARGV[3], 0
if redis.call('ZREM', entries, node .. '|' .. user) == 1 and redis.call('HINCRBY', users, user, -1) <= 0 then
  redis.call('HDEL', users, user)
end
if not swept[user] and redis.call('HEXISTS', users, user) == 0 and redis.call('HSETNX', offline, user, 1) == 1 then
  last = 1
end
return {last, finish()}

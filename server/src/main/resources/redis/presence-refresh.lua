-- After presence-prelude.lua. ARGV[3..]: this node's users in the room. Returns {gone, back, quiet}:
-- users who had no entry until now, `back` after an offline announcement, `quiet` without one
-- (Redis lost them).
local back, quiet = {}, {}
for i = 3, #ARGV do
  local r = add(ARGV[i])
  if r == 2 then back[#back + 1] = ARGV[i] elseif r == 1 then quiet[#quiet + 1] = ARGV[i] end
end
return {finish(), back, quiet}

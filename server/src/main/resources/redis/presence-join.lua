-- After presence-prelude.lua. ARGV[3]: the user. Returns {1 if first, gone}.
local first = add(ARGV[3]) > 0 and 1 or 0
return {first, finish()}

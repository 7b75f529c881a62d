-- expect: luatrace: stack_overflow.lua:4: stack overflow
-- exit: 1
-- reported as such, not "error in error handling"
local function f(n) return 1 + f(n + 1) end
f(1)

-- BCC's histogram text, line for line.
local hist = require "luatrace.hist"

local bar = function(n) return "|" .. ("*"):rep(n) .. (" "):rep(40 - n) .. "|" end

test("log2 histogram in BCC's format", function()
  local lines = hist.log2_lines({ [1] = 0, [2] = 3, [3] = 6 }, "usecs")
  eq(#lines, 4)
  eq(lines[1], "     usecs               : count     distribution")
  eq(lines[2], "         0 -> 1          : 0        " .. bar(0))
  eq(lines[3], "         2 -> 3          : 3        " .. bar(20))
  eq(lines[4], "         4 -> 7          : 6        " .. bar(40))
end)

test("log2 histogram beyond slot 32 uses the wide layout", function()
  local lines = hist.log2_lines({ [34] = 1 }, "bytes")
  eq(lines[1], "               bytes                         : count     distribution")
  eq(lines[#lines], ("%20d -> %-20d : %-8d |%s|"):format(2 ^ 33, 2 ^ 34 - 1, 1, ("*"):rep(20)))
  eq(#lines, 35, "header + slots 1..34")
end)

test("strip_leading_zero drops the empty slots before the first count", function()
  local lines = hist.log2_lines({ [5] = 2, [6] = 1 }, "v", true)
  eq(#lines, 3)
  eq(lines[2], "        16 -> 31         : 2        " .. bar(40))
  eq(lines[3], "        32 -> 63         : 1        " .. bar(20))
end)

test("an empty histogram prints nothing", function()
  eq(#hist.log2_lines({}, "v"), 0)
  eq(#hist.linear_lines({}, "v"), 0)
end)

test("linear histogram in BCC's format", function()
  local lines = hist.linear_lines({ [0] = 1, [2] = 4 }, "kbytes")
  eq(lines[1], "     kbytes        : count     distribution")
  eq(lines[2], "        0          : 1        " .. bar(10))
  eq(lines[3], "        1          : 0        " .. bar(0))
  eq(lines[4], "        2          : 4        " .. bar(40))
end)

test("stars mark an overflow with +", function()
  eq(hist.stars(10, 5, 4), "***+")
end)

test("log2 bounds are exact above 2^53 (64-bit integers, as BCC prints them)", function()
  local lines = hist.log2_lines({ [54] = 1, [63] = 2, [64] = 4 }, "ns", true)
  eq(#lines, 12, "header + slots 54..64")
  eq(lines[2], "    9007199254740992 -> 18014398509481983    : 1        |*****               |")
  eq(lines[11], " 4611686018427387904 -> 9223372036854775807  : 2        |**********          |")
  eq(lines[12], " 9223372036854775808 -> 18446744073709551615 : 4        |********************|")
end)

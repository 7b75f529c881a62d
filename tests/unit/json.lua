-- The JSON encoder: exact text for every kind of value.
local json = require "luatrace.json"
local ffi = require "ffi"

test("scalars, arrays and sorted objects", function()
  eq(json.encode(nil), "null")
  eq(json.encode(true), "true")
  eq(json.encode(42), "42")
  eq(json.encode(-7), "-7")
  eq(json.encode(2 ^ 53), "9007199254740992")
  eq(json.encode(0.5), "0.5")
  eq(json.encode(0 / 0), "null")
  eq(json.encode({ 1, 2, "x" }), '[1,2,"x"]')
  eq(json.encode({ b = 1, a = { c = false } }), '{"a":{"c":false},"b":1}')
  eq(json.encode({}), "{}")
  eq(json.encode(json.array()), "[]")
  eq(json.encode({ x = json.null }), '{"x":null}')
  eq(json.encode({ [1] = "a", [3] = "c" }), '{"1":"a","3":"c"}')
end)

test("order puts named keys first", function()
  eq(json.encode({ pid = 1, comm = "sh", ts = 3 }, { "ts", "pid" }), '{"ts":3,"pid":1,"comm":"sh"}')
end)

test("64-bit integers print exactly", function()
  eq(json.encode(0xffffffffffffffffULL), "18446744073709551615")
  eq(json.encode(ffi.cast("int64_t", -9007199254740993LL)), "-9007199254740993")
  eq(json.encode({ v = 9007199254740993ULL }), '{"v":9007199254740993}')
end)

test("strings: escapes, control bytes, UTF-8 kept, invalid bytes escaped", function()
  eq(json.encode('a"b\\c\n\t'), '"a\\"b\\\\c\\n\\t"')
  eq(json.encode("\1\127"), '"\\u0001\\u007f"')
  eq(json.encode("h\195\169llo"), '"h\195\169llo"') -- é stays
  eq(json.encode("\255x\192\128"), '"\\u00ffx\\u00c0\\u0080"') -- invalid and overlong
  eq(json.encode("\237\160\128"), '"\\u00ed\\u00a0\\u0080"') -- a surrogate is not UTF-8
end)

test("what JSON cannot hold is an error", function()
  raises(function() json.encode(print) end, "json: cannot encode a function")
  local t = {}; t.self = t
  raises(function() json.encode(t) end, "contains itself")
end)

-- core.hash_file: a content hash (cache keys: minimized BTF per object,
-- compile keys), eight bytes at a step. Any changed byte changes it (the
-- first, the last of a word, one in the byte tail, one past a 64 KiB
-- read); equal content hashes equal whatever the path.
local core = require "luatrace.core"

local function write(tag, s)
  local p = unique_path(tag)
  local f = assert(io.open(p, "wb")); f:write(s); f:close()
  return p
end

test("hash_file: equal content equal, any one changed byte different", function()
  local base = {}
  for i = 1, 65536 + 77 do base[i] = string.char((i * 7 + 3) % 256) end
  local s = table.concat(base)
  local a, b = write("hash-a", s), write("hash-b", s)
  local h = core.hash_file(a)
  ok(h:match("^%x+$") and #h == 16, "16 hex digits: " .. h)
  eq(core.hash_file(b), h, "same bytes, another file")
  local seen = { [h] = true }
  for _, at in ipairs({ 1, 8, 9, 16, 65536, 65537, 65536 + 73, #s }) do
    local c = s:sub(1, at - 1) .. string.char((s:byte(at) + 1) % 256) .. s:sub(at + 1)
    local p = write("hash-c", c)
    local hc = core.hash_file(p)
    os.remove(p)
    ok(not seen[hc], ("byte %d changed: a new hash (%s)"):format(at, hc))
    seen[hc] = true
  end
  local short = write("hash-d", s:sub(1, -2))
  ok(not seen[core.hash_file(short)], "one byte shorter: a new hash")
  os.remove(a); os.remove(b); os.remove(short)
  local _, err = core.hash_file("/nonexistent/luatrace-hash")
  eq(err, "No such file or directory")
end)

test("hash: word at a step over its arguments; any changed byte or boundary changes it", function()
  local s = ("0123456789abcdef"):rep(5) .. "xyz" -- words and a byte tail
  local h = core.hash(s, "k")
  ok(h:match("^%x+$") and #h == 16, "16 hex digits: " .. h)
  eq(core.hash(s, "k"), h)
  local seen = { [h] = true }
  for _, at in ipairs({ 1, 8, 9, 16, 80, 81, #s }) do
    local c = s:sub(1, at - 1) .. string.char((s:byte(at) + 1) % 256) .. s:sub(at + 1)
    local hc = core.hash(c, "k")
    ok(not seen[hc], ("byte %d changed: a new hash (%s)"):format(at, hc))
    seen[hc] = true
  end
  for _, args in ipairs({ { s .. "k" }, { s:sub(1, 8), s:sub(9), "k" }, { s, "k", "" }, { s, "" } }) do
    local hc = core.hash(unpack(args))
    ok(not seen[hc], ("arguments split %d ways: a new hash"):format(#args))
    seen[hc] = true
  end
end)

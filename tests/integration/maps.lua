-- Maps: exact values after known events; lookup/update/delete/next_key;
-- batch and iterating reads agree; read-and-delete empties the map.
local core = require "luatrace.core"
local maps = require "luatrace.maps"
local ffi = require "ffi"

test("counts by (pid, comm) and a per-CPU total are exact", function()
  local o = load("events")
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  for i = 1, 9 do touch_open(unique_path("cnt" .. i)) end
  link:close()
  local rows = maps.read(o, o:map("counts"))
  eq(#rows, 1, "one key")
  local k, v = rows[1][1], rows[1][2]
  eq(k.pid, core.getpid(), "key pid")
  eq(ffi.string(k.comm), "luatrace", "key comm")
  eq(v, 9, "count")
  local per = maps.read(o, o:map("percpu_total"))
  eq(#per, 1, "per-CPU array has one slot")
  eq(#per[1][2], core.possible_cpus(), "one value per possible CPU")
  local sum = 0
  for _, x in ipairs(per[1][2]) do sum = sum + x end
  eq(sum, 9, "per-CPU sum")
  o:close()
end)

test("lookup, update, delete and next_key on a hash", function()
  local o = load("events")
  local m = o:map("numbers")
  local kt, vt = maps.key_value_types(o, m)
  local function K(n) return maps.bytes(kt, n) end
  local function V(n) return maps.bytes(vt, n) end
  eq(m:lookup(K(1)), nil, "absent key")
  m:update(K(1), V(11)); m:update(K(2), V(22))
  eq(maps.decode(vt, m:lookup(K(2)), 8), 22, "value of key 2")
  local seen, k = {}, m:next_key()
  while k do seen[#seen + 1] = maps.decode(kt, k, 4); k = m:next_key(k) end
  table.sort(seen)
  eq(table.concat(seen, ","), "1,2", "keys by next_key")
  eq(m:delete(K(1)), true, "delete present")
  eq(m:delete(K(1)), false, "delete absent")
  eq(m:lookup(K(1)), nil, "deleted")
  raises(function() m:lookup("abc") end, "key of map numbers: 3 bytes given, it has 4")
  local info = m:info()
  eq(info.type, "hash"); eq(info.key_size, 4); eq(info.value_size, 8); eq(info.max_entries, 4096)
  o:close()
end)

test("batch and iterating reads return the same 3000 entries", function()
  local o = load("events")
  local m = o:map("numbers")
  local kt, vt = maps.key_value_types(o, m)
  for i = 1, 3000 do m:update(maps.bytes(kt, i), maps.bytes(vt, i * 7)) end
  local batch, n1, batched = maps.read(o, m)
  local iter, n2, batched2 = maps.read(o, m, { iterate = true })
  eq(n1, 3000, "batch count"); eq(n2, 3000, "iterate count")
  eq(batched, true, "the kernel's batch syscall was used")
  eq(batched2, false, "iteration was forced")
  local function index(rows)
    local t = {}
    for _, r in ipairs(rows) do t[r[1]] = r[2] end
    return t
  end
  local a, b = index(batch), index(iter)
  for i = 1, 3000 do
    eq(a[i], i * 7, "batch value " .. i)
    eq(b[i], i * 7, "iterated value " .. i)
  end
  o:close()
end)

test("take_all reads and deletes; on arrays it zeroes", function()
  local o = load("events")
  local m = o:map("numbers")
  local kt, vt = maps.key_value_types(o, m)
  for i = 1, 100 do m:update(maps.bytes(kt, i), maps.bytes(vt, i)) end
  local rows, n = maps.read(o, m, { take = true })
  eq(n, 100, "taken")
  local total = 0
  for _, r in ipairs(rows) do total = total + r[2] end
  eq(total, 5050, "sum of taken values")
  local _, left = maps.read(o, m)
  eq(left, 0, "left after take")
  -- the same through the fallback path
  for i = 1, 10 do m:update(maps.bytes(kt, i), maps.bytes(vt, i)) end
  local _, n2 = maps.read(o, m, { take = true, iterate = true })
  eq(n2, 10, "taken by iteration")
  eq(select(2, maps.read(o, m)), 0, "left after iterating take")
  -- arrays cannot delete: their values are zeroed
  local arr = o:map("events_lost")
  local ak, av = maps.key_value_types(o, arr)
  arr:update(maps.bytes(ak, 0), maps.bytes(av, 5))
  local taken = maps.read(o, arr, { take = true })
  eq(taken[1][2], 5, "array value taken")
  eq(maps.read(o, arr)[1][2], 0, "array value zeroed")
  o:close()
end)

test("a closed object's maps refuse use", function()
  local o = load("events")
  local m = o:map("numbers")
  o:close()
  raises(function() m:info() end, "use of BPF object " .. test_obj("events") .. ": it is closed")
end)

test("maps.iter decodes one read as it goes; its bytes survive a collection", function()
  local o = load("events")
  local m = o:map("numbers")
  local kt, vt = maps.key_value_types(o, m)
  for i = 1, 500 do m:update(maps.bytes(kt, i), maps.bytes(vt, i * 3)) end
  local seen, n = {}, 0
  for k, v in maps.iter(o, m) do
    -- the snapshot strings are only held by the iterator: a collection
    -- in the loop must not free what the next step reads
    collectgarbage()
    n = n + 1
    seen[k] = v
    m:delete(maps.bytes(kt, k)) -- the loop reads its snapshot, not the map
  end
  eq(n, 500, "entries iterated")
  for i = 1, 500 do eq(seen[i], i * 3, "value of " .. i) end
  for i = 1, 3 do m:update(maps.bytes(kt, i), maps.bytes(vt, 10 * i)) end
  local ks, vs = {}, {}
  for k in maps.iter(o, m, nil, 1) do ks[#ks + 1] = k end
  for v in maps.iter(o, m, nil, 2) do vs[#vs + 1] = v end
  table.sort(ks); table.sort(vs)
  eq(table.concat(ks, ","), "1,2,3", "keys only")
  eq(table.concat(vs, ","), "10,20,30", "values only")
  local taken = 0
  for _, v in maps.iter(o, m, { take = true }) do taken = taken + v end
  eq(taken, 60, "taken values")
  eq(select(2, maps.read(o, m)), 0, "take emptied the map")
  -- per-CPU values come as one array per entry
  local per = o:map("percpu_total")
  for k, v in maps.iter(o, per) do
    eq(k, 0, "per-CPU key")
    eq(#v, core.possible_cpus(), "one value per possible CPU")
  end
  o:close()
end)

-- bpftrace `config = { ... }` blocks: the keys luatrace honours change the
-- program (string size, map size, the map dump at exit); the others are
-- located errors naming the key.
local B = dofile(root .. "/tests/bt_helpers.lua")
local core = require "luatrace.core"
local C = B.C

test("config: max_strlen sizes str(), print_maps_on_exit = false drops the dump", function()
  local path = unique_path("cfg") .. "-long-name"
  local out = B.run([[
config = { max_strlen = 8; print_maps_on_exit = false }
t:syscalls:sys_enter_openat { printf("%s|\n", str(args->filename)); @[str(args->filename)] = count(); }]],
    function() C.close(C.open(path, 0)) end)
  eq(out, "Attaching 1 probe...\n" .. path:sub(1, 7) .. "|\n")
  -- the caller's print_maps wins over the block
  out = B.run("config = { print_maps_on_exit = false } BEGIN { @ = 7; exit(); }", nil, { print_maps = true })
  eq(out, "Attaching 1 probe...\n\n\n@: 7\n")
end)

test("config: BPFTRACE_MAX_MAP_KEYS / max_map_keys bound the maps", function()
  local out = B.run([[
config = { BPFTRACE_MAX_MAP_KEYS = 2; print_maps_on_exit = false; }
BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; exit(); }]])
  eq(out, "Attaching 1 probe...\n")
  local text = {}
  local bt = require "luatrace.bpftrace"
  local p = bt.load("config = { max_map_keys = 2 } BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; exit(); }",
    { out = function(s) text[#text + 1] = s end })
  eq(p.maps["@x"][1], 1)
  p:run { duration_ms = 1000 }
  eq(table.concat(text), "Attaching 1 probe...\n\n\n@x[1]: 1\n@x[2]: 2\n", "the third key found no room")
end)

test("config: perf_rb_pages sizes the output ring per CPU, as bpftrace's perf buffers", function()
  local bt = require "luatrace.bpftrace"
  local ncpu = core.possible_cpus()
  local function ring(prog)
    local p = bt.load(prog, { out = function() end })
    local bytes = p.bpf.lt_bt_out:info().max_entries
    p:run { duration_ms = 1000 }
    return bytes
  end
  local function pow2(n) local x = 1; while x < n do x = x * 2 end; return x end
  eq(ring("config = { perf_rb_pages = 4 } BEGIN { exit(); }"), pow2(4 * ncpu) * 4096)
  eq(ring("BEGIN { exit(); }"), math.min(pow2(64 * ncpu), 1024) * 4096, "the default: 64 pages per CPU, at most 4 MB")
  if ncpu == 2 then eq(ring("BEGIN { exit(); }"), 524288) end
end)

test("config: -e with a config block is bpftrace; a table assignment alone stays Lua", function()
  local out, err, code = sh(q(luatrace()) .. [[ -e 'config = { print_maps_on_exit = 0 } BEGIN { @ = 1; printf("hi\n"); exit(); }']])
  eq(code, 0, err)
  eq(out, "Attaching 1 probe...\nhi\n")
  out, err, code = sh(q(luatrace()) .. [[ -e 'config = { a = 1 } print(config.a)']])
  eq(code, 0, err)
  eq(out, "1\n")
end)

test("config: unsupported keys and values are located errors", function()
  local cases = {
    { "config = { stack_mode = perf } BEGIN { }", "stdin:1:12-22: ERROR: config key 'stack_mode' is not supported by luatrace (supported: max_strlen, max_map_keys, perf_rb_pages, print_maps_on_exit, missing_probes)" },
    { "config = { missing_probes = warn; } BEGIN { }", "stdin:1:29-33: ERROR: missing_probes = warn is not supported by luatrace: a probe that cannot attach stops the program (the default, error)" },
    { "config = { max_strlen = 4096 } BEGIN { }", "stdin:1:25-29: ERROR: max_strlen 4096 is above luatrace's limit of 200 bytes (strings live on the 512-byte BPF stack)" },
    { "config = { print_maps_on_exit = maybe } BEGIN { }", "stdin:1:33-38: ERROR: print_maps_on_exit takes true or false" },
    { "config = { max_strlen = 8; MAX_STRLEN = 9 } BEGIN { }", "stdin:1:28-38: ERROR: config key 'MAX_STRLEN' is set twice" },
    { "BEGIN { } config = { max_strlen = 8 }", "stdin:1:11-17: ERROR: the config block must come first, before any probe" },
    { "config = { max_strlen 8 } BEGIN { }", "stdin:1:23-24: ERROR: syntax error, unexpected integer, expecting =" },
  }
  for _, c in ipairs(cases) do
    eq(B.lines(B.error_of(c[1]) .. "\n")[1], c[2], c[1])
  end
end)

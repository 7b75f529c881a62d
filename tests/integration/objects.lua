-- BPF objects: open from memory, list programs and maps, autoload, globals.
local core = require "luatrace.core"

local function slurp(p)
  local fh = io.open(p, "rb"); local s = fh:read("*a"); fh:close(); return s
end

test("open from a memory buffer, list programs and maps", function()
  local o = core.open_mem(slurp(test_obj("events")), "events-from-memory")
  eq(tostring(o), "BPF object events-from-memory")
  local progs = o:programs()
  eq(#progs, 1)
  eq(progs[1].name, "on_openat")
  eq(progs[1].section, "tracepoint/syscalls/sys_enter_openat")
  eq(progs[1].type, "tracepoint")
  local names = {}
  for _, m in ipairs(o:maps()) do
    if not m.internal then names[#names + 1] = m.name .. ":" .. m.type end
  end
  table.sort(names)
  eq(table.concat(names, " "), "counts:hash events:ringbuf events_lost:array "
    .. "numbers:hash percpu_total:percpu_array pevents:perf_event_array")
  o:set_global("target_pid", core.getpid())
  o:load()
  eq(tostring(o), "BPF object events-from-memory (loaded)")
  local l = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  touch_open(unique_path("mem"))
  l:close()
  eq(select(3, o:map("counts"):read_all()), 1, "one key counted")
  o:close()
  eq(tostring(o), "BPF object events-from-memory (closed)")
end)

test("a global set before load is what the program sees", function()
  -- target_pid = 1: our opens are not counted
  local o = core.open_file(test_obj("events"))
  o:set_global("target_pid", 1)
  o:load()
  local l = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  touch_open(unique_path("glob"))
  l:close()
  eq(select(3, o:map("counts"):read_all()), 0, "nothing counted for another pid")
  o:close()
end)

test("set_autoload(false) leaves a program out of the load", function()
  local function prog_fds()
    local n = 0
    for _, target in pairs(core.open_fds()) do
      if target:find("bpf-prog", 1, true) then n = n + 1 end
    end
    return n
  end
  local o = core.open_file(test_obj("probes"))
  local all = #o:programs()
  o:set_autoload("on_vfs_read", false)
  o:set_autoload("on_vfs_read_ret", false)
  local before = prog_fds()
  o:load()
  -- each loaded program holds one fd: two fewer than the object has
  eq(prog_fds() - before, all - 2, "programs loaded")
  -- and the left-out one cannot attach anywhere (it has no fd)
  raises(function() core.attach_tracepoint(o, "on_vfs_read", "syscalls", "sys_enter_getppid") end,
    "attach tracepoint syscalls:sys_enter_getppid: Invalid argument")
  o:close()
end)

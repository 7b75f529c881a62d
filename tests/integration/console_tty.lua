-- The console on a real terminal: tmux runs `luatrace` in a pseudo-terminal,
-- the test types into it (send-keys) and reads the screen (capture-pane).
local core = require "luatrace.core"

local function have_tmux()
  local _, _, code = sh("command -v tmux")
  return code == 0
end

-- A private directory for history files (the console refuses others).
local function private_dir()
  local d = unique_path("console")
  assert(core.mkdir(d, tonumber("700", 8)))
  return d
end

-- One console in its own tmux server.
local Term = {}
Term.__index = Term

local function tmux(self, args)
  local out, err, code = sh(("tmux -S %s -f /dev/null %s"):format(q(self.sock), args))
  if code ~= 0 then error(("tmux %s: %s"):format(args, err), 2) end
  return out
end

local function start(env, args)
  if not have_tmux() then skip("tmux is not installed (tools/deps.sh installs it)") end
  local self = setmetatable({ sock = unique_path("tmux") }, Term)
  local cmd = ("env %s %s %s; echo EXIT=$?; sleep 600"):format(env or "", q(luatrace()), args or "")
  tmux(self, ("new-session -d -x 150 -y 50 %s"):format(q(cmd)))
  self:wait("lt> ")
  return self
end

function Term:screen()
  return tmux(self, "capture-pane -p -J -S -1000")
end

-- Wait until the screen holds `text` (plain) `count` times.
function Term:wait(text, count, timeout_s)
  count, timeout_s = count or 1, timeout_s or 60 -- a cold compile on a busy machine
  local deadline = os.time() + timeout_s
  local s
  repeat
    s = self:screen()
    local n = 0
    for _ in s:gmatch(text:gsub("%p", "%%%0")) do n = n + 1 end
    if n >= count then return s end
    core.sleep(50)
  until os.time() > deadline
  error(("the screen never showed %q (x%d):\n%s"):format(text, count, s), 2)
end

-- Type text literally (no Enter).
function Term:type(text) tmux(self, "send-keys -l " .. q(text)) end
function Term:key(k) tmux(self, "send-keys " .. k) end
-- Type a line and wait for the prompt after it (the n-th prompt).
function Term:line(text)
  local before = select(2, self:screen():gsub("lt> ", ""))
  self:type(text)
  self:key("Enter")
  return self:wait("lt> ", before + 1)
end

-- Start a chunk that runs until Ctrl-C: it first prints a marker, so the
-- Ctrl-C that follows lands in the chunk, not at the prompt. An
-- expression stays one (its value prints).
function Term:start(chunk, expression)
  self.runs = (self.runs or 0) + 1
  local fmt = expression and 'select(2, io.write("GO", "%d\\n"), %s)' or 'io.write("GO", "%d\\n"); %s'
  self:type(fmt:format(self.runs, chunk))
  self:key("Enter")
  self:wait("GO" .. self.runs .. "\n")
  core.sleep(200)
end

function Term:close()
  sh(("tmux -S %s kill-server"):format(q(self.sock)))
  os.remove(self.sock)
end

-- Run fn(term) with a console; the tmux server always goes.
local function with_console(env, fn, args)
  local t = start(env, args)
  local ok, err = pcall(fn, t)
  local screen = ok and "" or select(2, pcall(t.screen, t))
  t:close()
  if not ok and type(err) == "table" then error(err, 0) end -- skip()
  if not ok then error(tostring(err) .. "\n--- screen:\n" .. tostring(screen), 0) end
end

-- The last value line printed before the final prompt.
local function last_output(s)
  local lines = {}
  for l in s:gmatch("[^\n]*") do if l ~= "" then lines[#lines + 1] = l end end
  return lines[#lines - 1]
end

-- The console's pid, and its kernel attachments (bpf links, perf events).
local function attachments(pid)
  local out = sh("for f in /proc/" .. pid .. "/fd/*; do readlink $f; done")
  local n = 0
  for t in out:gmatch("[^\n]+") do
    if t:find("bpf-link", 1, true) or t:find("perf_event", 1, true) or t:find("bpf-prog", 1, true) then
      n = n + 1
    end
  end
  return n
end

-- The BPF program and link ids a process holds (from its fds' fdinfo).
local function kernel_ids(pid)
  local out = sh("cat /proc/" .. pid .. "/fdinfo/* 2>/dev/null")
  local ids = {}
  for kind, id in out:gmatch("(%a+)_id:%s*(%d+)") do
    if kind == "prog" or kind == "link" then ids[#ids + 1] = { kind, id } end
  end
  return ids
end

-- None of these ids exists in the kernel any more (bpftool's view).
local function gone(ids)
  for _, e in ipairs(ids) do
    local _, _, code = sh(("bpftool %s show id %s"):format(e[1], e[2]))
    if code == 0 then error(("bpftool still shows %s %s"):format(e[1], e[2]), 2) end
  end
end

local function console_pid(t)
  local s = t:line("=lt.core.getpid()")
  return tonumber(last_output(s))
end

local function hist_env()
  return "LUATRACE_HISTORY=" .. private_dir() .. "/history"
end

local COUNTER = [[b = BPF{text = "BPF_HASH(counts, u32, u64); ]]
  .. [[TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { u32 pid = bpf_get_current_pid_tgid() >> 32; ]]
  .. [[counts.increment(pid); return 0; }"}]]

test("probes, counts, Ctrl-C back to the prompt, detach, attach again, close: nothing stays", function()
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    local base = attachments(pid)
    t:line([[ffi = require "ffi"; ffi.cdef "int getppid(void);"]])
    t:line(COUNTER)
    ok(attachments(pid) > base, "the probe holds kernel attachments")
    local ids = kernel_ids(pid)
    ok(#ids >= 2, "a program and a link")
    t:line("for i = 1, 5 do ffi.C.getppid() end")
    eq(last_output(t:line("b.counts[lt.core.getpid()]")), "5")
    -- a wait and a busy Lua loop both end on Ctrl-C; the session stays
    t:start("lt.sleep(600000)", true)
    t:key("C-c")
    t:wait("false")
    t:start("while true do end")
    t:key("C-c")
    t:wait("interrupted")
    t:wait("lt> ", 8)
    t:start("(function() local x = 0; while true do x = x + 1 end end)()")
    t:key("C-c")
    t:wait("interrupted", 2)
    t:wait("lt> ", 9)
    t:line("for i = 1, 2 do ffi.C.getppid() end")
    eq(last_output(t:line("b.counts[lt.core.getpid()]")), "7")
    local s = t:line(".probes")
    ok(s:find("[1] BPF BPF{text}: 1 attached", 1, true), ".probes lists the object")
    ok(s:find("    tracepoint:syscalls:sys_enter_getppid:", 1, true), ".probes lists the link")
    -- detach live: the object stays, its map too
    t:line([[b:detach_tracepoint{tp = "syscalls:sys_enter_getppid"}]])
    t:line("for i = 1, 3 do ffi.C.getppid() end")
    eq(last_output(t:line("b.counts[lt.core.getpid()]")), "7")
    ok(t:line(".probes"):find("[1] BPF BPF{text}: 0 attached", 1, true), "detached")
    -- and attached again, live
    t:line([[b:attach_tracepoint{tp = "syscalls:sys_enter_getppid", fn_name = "tracepoint__syscalls__sys_enter_getppid"}]])
    t:line("ffi.C.getppid()")
    eq(last_output(t:line("b.counts[lt.core.getpid()]")), "8")
    t:line([[b:detach_tracepoint{tp = "syscalls:sys_enter_getppid"}]])
    t:line(".close 1")
    ok(t:line(".probes"):find("nothing attached", 1, true), "closed")
    eq(attachments(pid), base, "kernel attachments after .close")
    gone(ids)
    t:type("exit()"); t:key("Enter")
    t:wait("EXIT=0")
  end)
end)

test("a bpftrace program at the prompt: counts, Ctrl-C, its maps stay readable", function()
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    local base = attachments(pid)
    -- the interval probe attaches after the tracepoint: "armed" means both are
    t:type(("t:syscalls:sys_enter_getppid /pid == %d/ { @calls = count(); } "):format(core.getpid())
      .. [[i:ms:100 /@armed == 0/ { printf("AR%sED\n", "M"); @armed = 1; }]])
    t:key("Enter")
    t:wait("ARMED")
    getppid_calls(7)
    core.sleep(200)
    t:key("C-c")
    local s = t:wait("lt> ", 3)
    ok(s:find("\n@calls: 7\n", 1, true), "the maps print at Ctrl-C")
    eq(last_output(t:line([[_bt.maps["@calls"] ]])), "7")
    ok(t:line(".probes"):find("[1] bpftrace t:syscalls:sys_enter_getppid /pid == " .. core.getpid()
      .. "/: 0 attached", 1, true), ".probes: detached")
    getppid_calls(2)
    eq(last_output(t:line([[_bt.maps["@calls"] ]])), "7")
    t:line(".close 1")
    eq(attachments(pid), base, "kernel attachments after .close")
  end)
end)

test("tools at the prompt: in the background, in the foreground until Ctrl-C", function()
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    local base = attachments(pid)
    local me = core.getpid()
    t:line(("r = tools.opensnoop{pid = %d}"):format(me))
    local path = unique_path("console-bg")
    touch_open(path)
    t:wait(" -1   2 " .. path)
    t:type("partial")
    t:wait("lt> partial") -- the prompt is drawn again under the tool's line
    t:key("C-u")
    ok(t:line(".probes"):find("[1] tool opensnoop: 6 attached, events from events", 1, true), ".probes lists the tool")
    t:line(".close 1")
    eq(attachments(pid), base, "kernel attachments after .close")
    -- the CLI form runs until Ctrl-C
    t:type(([[tools.opensnoop("-p", "%d")]]):format(me)); t:key("Enter")
    t:wait("PID    COMM", 2)
    core.sleep(300)
    local path2 = unique_path("console-fg")
    touch_open(path2)
    t:wait(" -1   2 " .. path2)
    t:key("C-c")
    eq(last_output(t:wait("lt> ", 6)), "0", "the tool's exit status")
    eq(attachments(pid), base, "kernel attachments after the foreground run")
  end)
end)

test("events of an open ring buffer print while the prompt waits", function()
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    t:line([[ffi = require "ffi"; ffi.cdef "int getppid(void);"; me = lt.core.getpid(); n = 0]])
    t:line([[b = BPF{text = "BPF_RINGBUF_OUTPUT(events, 8); struct ev { u32 pid; }; ]]
      .. [[TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { struct ev *e = events.ringbuf_reserve(sizeof(*e)); ]]
      .. [[if (!e) return 0; e->pid = bpf_get_current_pid_tgid() >> 32; events.ringbuf_submit(e, 0); return 0; }"}]])
    t:line([[b.events:open_ring_buffer(function(e) if e.pid == me then n = n + 1; print("event " .. n) end end)]])
    t:type("for i = 1, 3 do ffi.C.getppid() end"); t:key("Enter")
    t:wait("event 3")
    t:type("partial")
    t:wait("lt> partial")
    t:key("C-u")
    eq(last_output(t:line("n")), "3")
    ok(t:line(".probes"):find("1 attached, events from events", 1, true), ".probes shows the buffer")
    -- BCC's idiom: the first Ctrl-C ends a poll, the next poll raises
    t:start("while true do b:ring_buffer_poll(1000) end")
    t:key("C-c")
    t:wait("interrupted")
    -- the object and its buffer are still there
    t:type("for i = 1, 2 do ffi.C.getppid() end"); t:key("Enter")
    t:wait("event 5")
    -- a callback that fails at the prompt: one line, its object closes,
    -- and the prompt does not spin on the closed buffer
    t:line([[b:close(); b = nil]])
    t:line([[c = BPF{text = "BPF_RINGBUF_OUTPUT(events, 8); struct ev { u32 pid; }; ]]
      .. [[TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { struct ev *e = events.ringbuf_reserve(sizeof(*e)); ]]
      .. [[if (!e) return 0; e->pid = bpf_get_current_pid_tgid() >> 32; events.ringbuf_submit(e, 0); return 0; }"}]])
    t:line([[c.events:open_ring_buffer(function(e) if e.pid == me then error("cb failed") end end)]])
    t:type("ffi.C.getppid()"); t:key("Enter")
    t:wait("cb failed")
    core.sleep(300)
    local function cpu_ticks()
      local f = io.open("/proc/" .. pid .. "/stat")
      local st = f:read("*a")
      f:close()
      local fields = {}
      for x in st:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = x end
      return tonumber(fields[12]) + tonumber(fields[13]) -- utime + stime
    end
    local before = cpu_ticks()
    core.sleep(1000)
    ok(cpu_ticks() - before < 30, "the prompt waits without spinning")
    ok(t:line(".probes"):find("nothing attached", 1, true), "the failed callback's object is closed")
  end)
end)

test("a JIT-compiled loop that cannot stop: a note, not an exit; a second Ctrl-C ends luatrace", function()
  with_console(hist_env(), function(t)
    -- jit.on undoes what the console does for prompt chunks
    t:start("f = function() local x = 0; while true do x = x + 1 end end; jit.on(f, true); f()")
    core.sleep(500) -- compiled by now
    t:key("C-c")
    t:wait("luatrace: the running code does not stop (a JIT-compiled loop?); Ctrl-C again ends luatrace")
    core.sleep(500)
    t:key("C-c")
    t:wait("EXIT=130")
  end)
end)

test("a Lua error prints one line and the session goes on", function()
  with_console(hist_env(), function(t)
    local s = t:line([[error("boom")]])
    eq(last_output(s), "stdin:1: boom")
    eq(select(2, s:gsub("boom", "")), 2, "the typed line and one error line")
    eq(last_output(t:line("1 + 1")), "2")
    s = t:line("x = = 1")
    eq(last_output(s), "stdin:1: unexpected symbol near '='")
    eq(last_output(t:line("=1 + 2")), "3")
  end)
end)

test("multi-line chunks continue until complete; Ctrl-C drops them", function()
  with_console(hist_env(), function(t)
    t:type("function f(x)"); t:key("Enter"); t:wait("... ")
    t:type("return x * 2"); t:key("Enter"); t:wait("... ", 2)
    t:line("end")
    eq(last_output(t:line("f(21)")), "42")
    t:type("for i = 1, 3 do"); t:key("Enter"); t:wait("... ", 3)
    t:key("C-c")
    t:wait("^C")
    eq(last_output(t:line("f(1)")), "2")
  end)
end)

test("a failing BPF{} at the prompt leaves nothing attached", function()
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    local base = attachments(pid)
    -- the first program attaches, the second cannot
    local s = t:line([[b = BPF{text = 'SEC("tracepoint/syscalls/sys_enter_getppid") int a(void *c) { return 0; } ]]
      .. [[SEC("tracepoint/nosuch/event") int z(void *c) { return 0; }'}]])
    ok(last_output(s):find("nosuch", 1, true), "the error names the tracepoint: " .. last_output(s))
    eq(attachments(pid), base, "kernel attachments after the failure")
    ok(t:line(".probes"):find("nothing attached", 1, true), ".probes after the failure")
    eq(last_output(t:line("b")), "nil")
  end)
end)

test("values print: tables, maps as rows, histograms, BPF objects", function()
  with_console(hist_env(), function(t)
    eq(last_output(t:line([[{1, 2, a = "x", [10] = true}]])), [[{ 1, 2, [10] = true, a = "x" }]])
    t:line([[h = BPF{text = "BPF_HASH(h, u32, u64);"}]])
    t:line("h.h[7] = 70; h.h[3] = 300")
    local s = t:line("h.h")
    ok(s:find("BPF table h (hash)\n  3  300\n  7  70\n", 1, true), "rows sorted by value")
    ok(t:line("h"):find("BPF object stdin: 0 attached, maps: h\n", 1, true), "a BPF object")
    t:line("h:close()")
    t:line([[d = BPF{text = "BPF_HISTOGRAM(dist);"}]])
    t:line("d.dist[3] = 5; d.dist[4] = 2")
    s = t:line("d.dist")
    ok(s:find("BPF table dist (array)\n"
      .. "     value               : count     distribution\n"
      .. "         0 -> 1          : 0        |                                        |\n"
      .. "         2 -> 3          : 0        |                                        |\n"
      .. "         4 -> 7          : 5        |****************************************|\n"
      .. "         8 -> 15         : 2        |****************                        |\n", 1, true),
      "a histogram")
  end)
end)

test("Tab completes Lua names and probe names", function()
  with_console(hist_env(), function(t)
    t:type("lt.BP"); t:key("Tab")
    t:wait("lt> lt.BPF")
    t:key("C-u")
    t:line(COUNTER)
    t:type("b:detach_tr"); t:key("Tab")
    t:wait("lt> b:detach_tracepoint")
    t:key("C-u")
    t:line("b:close()")
    t:type([[x = "syscalls:sys_enter_getpp]]); t:key("Tab")
    t:wait([[lt> x = "syscalls:sys_enter_getppid"]])
    t:key("C-u")
    t:type("t:syscalls:sys_enter_getpp"); t:key("Tab")
    t:wait("lt> t:syscalls:sys_enter_getppid ")
    t:key("C-u")
    -- a library's short name becomes its path
    t:type("u:libc:malloc_st"); t:key("Tab")
    t:wait("/libc.so.6:malloc_stats ")
    t:key("C-u")
    -- several candidates and nothing to add: they are listed
    t:type("t:sched:sched_wak"); t:key("Tab")
    t:wait("lt> t:sched:sched_wak")
    t:key("Tab")
    t:wait("t:sched:sched_wakeup_new")
  end)
end)

test("history survives a restart, in a private file", function()
  local dir = private_dir()
  local env = "LUATRACE_HISTORY=" .. dir .. "/history"
  with_console(env, function(t)
    t:line("histmark = 12345")
    t:key("C-d")
    t:wait("EXIT=0")
  end)
  eq(core.stat(dir .. "/history").mode, tonumber("600", 8), "history file mode")
  with_console(env, function(t)
    t:key("Up")
    t:wait("lt> histmark = 12345")
  end)
  -- a history file others can write is refused, not used
  os.execute("chmod 0666 " .. q(dir .. "/history"))
  with_console(env, function(t)
    t:wait("writable by group or others (history not used)")
  end)
  -- so is one in a directory others can write, or a symbolic link
  os.execute("chmod 0600 " .. q(dir .. "/history") .. "; chmod 0777 " .. q(dir))
  with_console(env, function(t)
    t:wait("its directory: " .. dir .. " is writable by others (mode 777) (history not used)")
  end)
  os.execute("chmod 0700 " .. q(dir) .. "; ln -s history " .. q(dir .. "/link"))
  with_console("LUATRACE_HISTORY=" .. dir .. "/link", function(t)
    t:wait("/link: Too many levels of symbolic links (history not used)")
  end)
  os.remove(dir .. "/link")
end)

test("SIGTERM at the prompt, or while a chunk runs, detaches and exits 0", function()
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    t:line(COUNTER)
    os.execute("kill -TERM " .. pid)
    t:wait("EXIT=0")
  end)
  with_console(hist_env(), function(t)
    local pid = console_pid(t)
    t:start("lt.sleep(600000)")
    os.execute("kill -TERM " .. pid)
    t:wait("EXIT=0")
  end)
end)

-- bench/run.lua: luatrace against bpftrace, BCC (Python) and a plain libbpf
-- C program (the floor), side by side in one run. `make bench` runs it.
--
-- Every workload runs every tracer once per round, rounds interleaved
-- (A B C A B C ...), BENCH_ROUNDS rounds (default 5). Results are medians
-- with min..max, and ratios against the floor and the peers; the Markdown
-- goes to stdout, build/bench/results.md and docs/PERFORMANCE.md.
-- Environment: BENCH_ROUNDS, BENCH_EVENTS (default 1e6), BENCH_ONLY (workload
-- names, comma-separated, or bt alone: bench/bt_startup.lua; such a partial
-- run leaves docs/PERFORMANCE.md alone),
-- BENCH_NO_DOC=1 (do not rewrite docs/PERFORMANCE.md).
local core = require "luatrace.core"

local ROOT = core.exe_path():match("^(.*)/build/[^/]*$") or "."
local B = ROOT .. "/build/bench"
local LT = core.exe_path()
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS") or "5")
local EVENTS = tonumber(os.getenv("BENCH_EVENTS") or "1000000")
local ONLY = os.getenv("BENCH_ONLY")
local T0 = core.monotonic_ns()
local BUDGET_S = 14 * 60

-- BENCH_ONLY=bt: the bpftrace one-liner's startup (bench/bt_startup.lua:
-- AOT object, warm and cold cache, bpftrace), its own table on stdout
if ONLY == "bt" then
  os.exit(os.execute(("%s %s %d"):format(("'%s'"):format(LT), ("'%s/bench/bt_startup.lua'"):format(ROOT),
    ROUNDS)) == 0 and 0 or 1)
end

local function log(fmt, ...) io.stderr:write(("bench: " .. fmt .. "\n"):format(...)) end

local C = dofile(ROOT .. "/bench/common.lua")
local q, sh, median = C.q, C.sh, C.median

-- Peers: which are here, and why not.
local peers = {}
do
  local v = sh("bpftrace --version")
  if v:match("bpftrace v") then peers.bpftrace = v:match("(v[%d%.]+)")
  else peers.bpftrace_why = "bpftrace is not installed (apt-get install bpftrace)" end
  local hdr = sh(q(ROOT .. "/bench/kheaders.sh") .. " " .. q(B .. "/kheaders"))
  local tree = hdr:match("(/%S+/tree)%s*$")
  if not tree then
    peers.bcc_why = "no kernel headers for BCC: " .. hdr:gsub("\n", " ")
  elseif not sh("/usr/bin/python3 -c 'import bcc; print(\"ok\")'"):match("ok") then
    peers.bcc_why = "python3-bpfcc is not installed"
  else
    peers.bcc = sh("dpkg-query -W -f='${Version}' python3-bpfcc")
    peers.bcc_env = "BCC_KERNEL_SOURCE=" .. q(tree)
  end
end

-- Run a tracer under the runner. opts: marker, workload (shell cmd run at
-- the marker), interrupt, count (line mark). Returns the parsed RUNNER
-- fields plus .out (the tracer's output).
local function run(cmd, opts)
  opts = opts or {}
  local args = { q(B .. "/runner") }
  if opts.marker then args[#args + 1] = "-m " .. q(opts.marker) end
  if opts.workload then args[#args + 1] = "-x " .. q(opts.workload) end
  if opts.interrupt then args[#args + 1] = "-i" end
  if opts.count then args[#args + 1] = "-c " .. q(opts.count) end
  local out = sh((opts.env or "") .. " " .. table.concat(args, " ") .. " -- " .. cmd)
  local r = { out = out }
  local line = out:match("RUNNER ([^\n]+)")
  if not line then return nil, out end
  for k, v in line:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) end
  return r
end

-- A generator waiting on a fifo: returns its pid, the shell command that
-- releases it and waits for it to finish, and a reader of its output.
local function generator(mode, n)
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir " .. q(dir))
  local fifo, out = dir .. "/go", dir .. "/out"
  os.execute("mkfifo " .. q(fifo))
  -- the fifo is opened read-write (<>): that open never blocks, so the
  -- shell returns at once; gen then waits in its read for the "go" line
  local pid = tonumber(sh(("(%s -w %s %d > %s 2>&1 <> %s & echo $!)"):format(
    q(B .. "/gen"), mode, n, q(out), q(fifo))))
  local go = ("echo go > %s; while [ ! -s %s ]; do sleep 0.002; done"):format(q(fifo), q(out))
  local function result()
    local fh = io.open(out); local s = fh and fh:read("*a") or ""; if fh then fh:close() end
    os.execute("rm -rf " .. q(dir))
    return s
  end
  return pid, go, result
end

local function stats(xs)
  if #xs == 0 then return nil end
  local lo, hi = math.huge, -math.huge
  for _, x in ipairs(xs) do lo = math.min(lo, x); hi = math.max(hi, x) end
  return { med = median(xs), min = lo, max = hi, n = #xs }
end

local function fmt(v, unit)
  if not v then return "n/a" end
  local function num(x)
    if math.abs(x) >= 1e6 then return ("%.2fM"):format(x / 1e6) end
    if math.abs(x) >= 1e4 then return ("%.0fk"):format(x / 1e3) end
    if math.abs(x) >= 100 then return ("%.0f"):format(x) end
    return ("%.2f"):format(x)
  end
  return ("%s %s (%s..%s)"):format(num(v.med), unit, num(v.min), num(v.max))
end

-- Workloads: each has variants {name, available?, run(round) -> metrics}.
local results = {} -- results[workload][variant][metric] = { values }
local order = {}   -- workload -> ordered variant names

local function record(w, v, metrics)
  results[w] = results[w] or {}
  results[w][v] = results[w][v] or {}
  for k, x in pairs(metrics) do
    results[w][v][k] = results[w][v][k] or {}
    table.insert(results[w][v][k], x)
  end
end

-- bpftrace runs BEGIN once every probe is attached: its READY is the marker
local function bt(prog, no_ready)
  return "bpftrace -e " .. q((no_ready and "" or 'BEGIN { printf("READY\\n"); } ') .. prog)
end
local BCC = "/usr/bin/python3 " .. q(ROOT .. "/bench/bcc/tracer.py")
local LTT = q(LT) .. " " .. q(ROOT .. "/bench/luatrace/tracer.lua")

local workloads = {}

-- 1. Startup: exec -> attached -> first event in user space; exec -> exit.
workloads[#workloads + 1] = { name = "startup", variants = {
  { "C floor (libbpf)", function() return q(B .. "/floor") .. " startup" end },
  { "luatrace AOT", function() return LTT .. " startup aot" end },
  { "luatrace C text, warm cache", function() return LTT .. " startup warm" end },
  { "luatrace C text, cold cache", function(r) return LTT .. " startup cold " .. r .. "-" .. core.getpid() .. "-" .. T0 end },
  { "bpftrace", function() return bt('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); printf("FIRST\\n"); exit(); }', true) end, need = "bpftrace" },
  { "BCC Python", function() return BCC .. " startup" end, need = "bcc" },
}, setup = function(self)
  local pid = tonumber(sh(("(%s opener >/dev/null 2>&1 & echo $!)"):format(q(B .. "/gen"))))
  self.opener = pid
  -- warm the text cache once, outside the measurement
  run(LTT .. " startup warm", { marker = "FIRST" })
end, teardown = function(self)
  os.execute("kill " .. self.opener)
end, measure = function(cmd, env)
  local r, err = run(cmd, { marker = "FIRST", env = env })
  if not r or r.first_ms < 0 then return nil, err end
  return { first_ms = r.first_ms, exit_ms = r.exit_ms, rss_mb = r.maxrss_kb / 1024 }
end }

-- 2. Event throughput: EVENTS events of a generator, one small record each,
-- timed from the first to the last record the consumer sees.
local function events_measure(gen_mode)
  return function(cmd_of, env, v)
    local pid, go, result = generator(gen_mode, EVENTS)
    local r, err = run(cmd_of(pid), { marker = "READY", workload = go,
      interrupt = true, env = env, count = v.lines })
    result()
    if not r then return nil, err end
    local received, span_ms, lost
    if v.lines then
      received, span_ms = r.lines, r.span_ms
      lost = tonumber(r.out:match("Lost (%d+) events") or "0")
    else
      received = tonumber(r.out:match("received=(%d+)"))
      span_ms = tonumber(r.out:match("span_ns=(%d+)") or "0") / 1e6
      lost = tonumber(r.out:match("lost=(%d+)") or "0")
    end
    if not received or received == 0 then return nil, r.out end
    lost = math.max(lost, EVENTS - received)
    return { events_per_s = received / math.max(span_ms / 1e3, 1e-9), lost = lost,
             cpu_ns_per_event = (r.utime_ms + r.stime_ms) * 1e6 / received }
  end
end

-- 2a. One getppid call per event: what one syscall per event allows.
workloads[#workloads + 1] = { name = "events", variants = {
  { "C floor, ring buffer, default submit", function(pid) return q(B .. "/floor") .. " events-ring-default " .. pid end },
  { "C floor, ring buffer, batched wakeups", function(pid) return q(B .. "/floor") .. " events-ring " .. pid end },
  { "C floor, perf buffer", function(pid) return q(B .. "/floor") .. " events-perf " .. pid end },
  { "luatrace, ring buffer (C text as documented)", function(pid) return LTT .. " events-ring " .. pid end },
  { "luatrace, perf buffer (C text)", function(pid) return LTT .. " events-perf " .. pid end },
  { "bpftrace (printf)", function(pid)
    return bt(("tracepoint:syscalls:sys_enter_getppid /pid == %d/ { printf(\"@E\\n\"); }"):format(pid))
  end, need = "bpftrace", lines = "@E" },
  { "BCC Python, perf buffer", function(pid) return BCC .. " events-perf " .. pid end, need = "bcc" },
}, measure = events_measure("getppid") }

-- 2b. Many events per syscall: io_uring NOP requests submitted 256 per
-- io_uring_enter, the same documented probe as a raw tracepoint on
-- io_uring_submit_req (once per request). A getppid with a probe costs
-- ~0.6 us, so 2a cannot reach 3 M/s for any tracer; here the kernel's cost
-- per event is the probe and ~80 ns of NOP, for luatrace and the C floor
-- alike (bench/README.md says why raw).
local URING_TP = "raw:io_uring_submit_req"
workloads[#workloads + 1] = { name = "uring", variants = {
  { "C floor, ring buffer, default submit", function(pid)
    return q(B .. "/floor") .. " events-ring-default " .. pid .. " " .. URING_TP end },
  { "C floor, ring buffer, batched wakeups", function(pid)
    return q(B .. "/floor") .. " events-ring " .. pid .. " " .. URING_TP end },
  { "C floor, perf buffer", function(pid) return q(B .. "/floor") .. " events-perf " .. pid .. " " .. URING_TP end },
  { "luatrace, ring buffer (C text as documented)", function(pid) return LTT .. " events-ring " .. pid .. " " .. URING_TP end },
  { "luatrace, perf buffer (C text)", function(pid) return LTT .. " events-perf " .. pid .. " " .. URING_TP end },
  -- bpftrace 0.17 refuses rawtracepoint: here ("Invalid probe type")
  { "bpftrace (printf, tracepoint)", function(pid)
    return bt(("tracepoint:io_uring:io_uring_submit_req /pid == %d/ { printf(\"@E\\n\"); }"):format(pid))
  end, need = "bpftrace", lines = "@E" },
}, measure = events_measure("uring") }

-- 3. In-kernel overhead: the generator's ns per getppid call.
workloads[#workloads + 1] = { name = "overhead", variants = {
  { "no probe", false },
  { "C floor, per-CPU counter", function(pid) return q(B .. "/floor") .. " count-percpu " .. pid end },
  { "C floor, hash by comm", function(pid) return q(B .. "/floor") .. " count-comm " .. pid end },
  { "luatrace, per-CPU counter", function(pid) return LTT .. " count-percpu " .. pid end },
  { "luatrace, hash by comm", function(pid) return LTT .. " count-comm " .. pid end },
  { "bpftrace, count()", function(pid)
    return bt(("tracepoint:syscalls:sys_enter_getppid /pid == %d/ { @ = count(); }"):format(pid)) end,
    need = "bpftrace" },
  { "bpftrace, @[comm] = count()", function(pid)
    return bt(("tracepoint:syscalls:sys_enter_getppid /pid == %d/ { @[comm] = count(); }"):format(pid)) end,
    need = "bpftrace" },
  { "BCC, per-CPU counter", function(pid) return BCC .. " count-percpu " .. pid end, need = "bcc" },
  { "BCC, hash by comm", function(pid) return BCC .. " count-comm " .. pid end, need = "bcc" },
}, measure = function(cmd_of, env, v)
  local pid, go, result = generator("getppid", EVENTS)
  if not cmd_of then
    os.execute(go)
  else
    local r, err = run(cmd_of(pid), { marker = v.marker or "READY", workload = go, interrupt = true, env = env })
    if not r then result(); return nil, err end
  end
  local ns = tonumber(result():match("ns_per_call=([%d%.]+)"))
  if not ns then return nil, "no generator result" end
  return { ns_per_call = ns }
end }

-- 4. Map read-out: 100k entries back into the script as key/value pairs.
workloads[#workloads + 1] = { name = "mapread", variants = {
  { "C floor, batch", function(pid) return q(B .. "/floor") .. " mapread " .. pid end },
  { "luatrace, items()", function(pid) return LTT .. " mapread " .. pid end },
  { "bpftrace, print at exit", function(pid)
    -- bpftrace maps hold 4096 keys unless told otherwise
    return "env BPFTRACE_MAP_KEYS_MAX=131072 " ..
      bt(("tracepoint:syscalls:sys_enter_close /pid == %d/ { @m[args->fd] = 1; }"):format(pid)) end,
    need = "bpftrace", lines = "@m[" },
  { "BCC, items()", function(pid) return BCC .. " mapread " .. pid end, need = "bcc" },
}, measure = function(cmd_of, env, v)
  local pid, go, result = generator("close", 100000)
  local r, err = run(cmd_of(pid), { marker = v.marker or "READY", workload = go, interrupt = true,
    env = env, count = v.lines })
  result()
  if not r then return nil, err end
  if v.lines then
    if r.lines ~= 100000 then return nil, "bpftrace printed " .. r.lines .. " entries" end
    return { read_ms = r.int_to_exit_ms }
  end
  local n, ms = r.out:match("entries=(%d+) read_ms=([%d%.]+)")
  if tonumber(n) ~= 100000 then return nil, r.out end
  return { read_ms = tonumber(ms) }
end }

-- 5. uprobe overhead: calls/s of a loop on a noinline function.
-- 4b. Map fill: 100k entries written from the script in bulk.
workloads[#workloads + 1] = { name = "mapfill", variants = {
  { "C floor, batch update", function() return q(B .. "/floor") .. " mapfill" end },
  { "luatrace, update_batch()", function() return LTT .. " mapfill" end },
  { "BCC, items_update_batch()", function() return BCC .. " mapfill" end, need = "bcc" },
}, measure = function(cmd_of, env)
  local r, err = run(cmd_of(), { marker = "READY", env = env })
  if not r then return nil, err end
  local n, ms = r.out:match("entries=(%d+) fill_ms=([%d%.]+)")
  if tonumber(n) ~= 100000 then return nil, r.out end
  return { fill_ms = tonumber(ms) }
end }

workloads[#workloads + 1] = { name = "uprobe", variants = {
  { "no probe", false },
  { "C floor", function() return q(B .. "/floor") .. " uprobe " .. q(B .. "/gen") end },
  { "luatrace", function() return LTT .. " uprobe " .. q(B .. "/gen") end },
  { "bpftrace", function() return bt(("uprobe:%s:bench_target { @ = count(); }"):format(B .. "/gen")) end,
    need = "bpftrace" },
  { "BCC", function() return BCC .. " uprobe " .. q(B .. "/gen") end, need = "bcc" },
}, measure = function(cmd_of, env, v)
  local _, go, result = generator("uloop", EVENTS)
  if not cmd_of then
    os.execute(go)
  else
    local r, err = run(cmd_of(), { marker = v.marker or "READY", workload = go, interrupt = true, env = env })
    if not r then result(); return nil, err end
  end
  local text = result()
  local cps, ns = tonumber(text:match("calls_per_s=(%d+)")), tonumber(text:match("ns_per_call=([%d%.]+)"))
  if not cps then return nil, "no generator result" end
  return { calls_per_s = cps, ns_per_call = ns }
end }

local skipped = {}
for _, w in ipairs(workloads) do
  if not ONLY or ("," .. ONLY .. ","):find("," .. w.name .. ",", 1, true) then
    order[w.name] = {}
    for _, v in ipairs(w.variants) do order[w.name][#order[w.name] + 1] = v[1] end
    if w.setup then w:setup() end
    for round = 1, ROUNDS do
      if (core.monotonic_ns() - T0) / 1e9 > BUDGET_S then
        log("time budget reached: stopping at %s round %d", w.name, round)
        break
      end
      for _, v in ipairs(w.variants) do
        local name, cmd = v[1], v[2]
        if v.need and not peers[v.need] then
          skipped[name] = peers[v.need .. "_why"]
        else
          local env = v.need == "bcc" and peers.bcc_env or nil
          local cmd_of = cmd and function(...) return cmd(...) end or false
          if w.name == "startup" then cmd_of = cmd(round) end
          local m, err = w.measure(cmd_of, env, v)
          if m then record(w.name, name, m)
          else log("%s / %s round %d failed: %s", w.name, name, round, tostring(err):sub(1, 300)) end
        end
      end
      log("%s round %d/%d done (%.0fs)", w.name, round, ROUNDS, (core.monotonic_ns() - T0) / 1e9)
    end
    if w.teardown then w:teardown() end
  end
end

-- ---- report ----

local out = {}
local function emit(s) out[#out + 1] = s end

local function machine()
  local cpu = sh("grep -m1 'model name' /proc/cpuinfo"):match(":%s*(.-)%s*$") or "?"
  return ("%s, %s CPUs, kernel %s"):format(cpu, sh("nproc"):gsub("%s", ""),
    sh("uname -r"):gsub("%s", ""))
end

emit("# luatrace performance")
emit("")
emit(("Measured %s on %s."):format(os.date("!%Y-%m-%d %H:%M UTC"), machine()))
emit(("Versions: luatrace %s, libbpf %s, clang %s, bpftrace %s, BCC %s."):format(core.version,
  sh("dpkg-query -W -f='${Version}' libbpf1"), (sh("clang --version"):match("version ([%d%.]+)") or "?"),
  peers.bpftrace or "not run", peers.bcc or "not run"))
emit(("%d rounds, interleaved; medians with (min..max); %s events per throughput/overhead run; "
  .. "ratios compare the first column's medians. Reproduce: `make bench`."):format(ROUNDS, EVENTS))
for name, why in pairs(skipped) do emit(("Not run: %s: %s."):format(name, why)) end

local function table_of(wname, title, metrics, floor_name, ratio_label)
  local r = results[wname]
  if not r then return end
  emit("")
  emit("## " .. title)
  emit("")
  local head = { "tracer" }
  for _, m in ipairs(metrics) do head[#head + 1] = m[2] end
  if floor_name then head[#head + 1] = ratio_label or "vs C floor" end
  -- ratios against each peer: its first variant in this workload
  local peer_refs = {}
  for _, prefix in ipairs({ "bpftrace", "BCC" }) do
    for _, vname in ipairs(order[wname]) do
      if vname:sub(1, #prefix) == prefix and r[vname] then
        local ps = stats(r[vname][metrics[1][1]] or {})
        if ps and ps.med ~= 0 then
          peer_refs[#peer_refs + 1] = { prefix, ps.med }
          head[#head + 1] = "vs " .. vname
        end
        break
      end
    end
  end
  emit("| " .. table.concat(head, " | ") .. " |")
  emit("|" .. ("---|"):rep(#head))
  local floor = floor_name and r[floor_name] and stats(r[floor_name][metrics[1][1]])
  for _, vname in ipairs(order[wname]) do
    local row = { vname }
    local vr = r[vname]
    for _, m in ipairs(metrics) do row[#row + 1] = vr and fmt(stats(vr[m[1]] or {}), m[3]) or "not run" end
    local s = vr and stats(vr[metrics[1][1]] or {})
    if floor_name then
      row[#row + 1] = (s and floor and floor.med ~= 0) and ("%.2fx"):format(s.med / floor.med) or ""
    end
    for _, p in ipairs(peer_refs) do
      row[#row + 1] = s and ("%.2fx"):format(s.med / p[2]) or ""
    end
    emit("| " .. table.concat(row, " | ") .. " |")
  end
end

table_of("startup", "Startup: count sys_enter_openat by comm, time to first event",
  { { "first_ms", "exec to first event", "ms" }, { "exit_ms", "exec to exit", "ms" },
    { "rss_mb", "peak RSS", "MB" } }, "C floor (libbpf)")
table_of("events", "Event throughput into user space (" .. EVENTS .. " getppid events)",
  { { "events_per_s", "events/s", "/s" }, { "lost", "lost", "" },
    { "cpu_ns_per_event", "consumer CPU per event", "ns" } }, "C floor, ring buffer, batched wakeups")
table_of("uring", "Event throughput, many events per syscall (" .. EVENTS .. " io_uring NOP requests)",
  { { "events_per_s", "events/s", "/s" }, { "lost", "lost", "" },
    { "cpu_ns_per_event", "consumer CPU per event", "ns" } }, "C floor, ring buffer, batched wakeups")
table_of("overhead", "In-kernel overhead: generator time per getppid call",
  { { "ns_per_call", "ns per call", "ns" } }, "no probe", "vs no probe")
table_of("mapfill", "Map fill: 100k entries written from the script in bulk",
  { { "fill_ms", "fill time", "ms" } }, "C floor, batch update")
table_of("mapread", "Map read-out: 100k-entry hash into the script",
  { { "read_ms", "read time", "ms" } }, "C floor, batch")
table_of("uprobe", "uprobe overhead: loop on a noinline function (push rbp first)",
  { { "ns_per_call", "ns per call", "ns" }, { "calls_per_s", "calls/s", "/s" } }, "no probe",
  "vs no probe")

-- Targets (issue 5): each with its measured value.
local function med(w, v, m) local s = results[w] and results[w][v] and stats(results[w][v][m] or {}); return s and s.med end
emit("")
emit("## Targets")
emit("")
emit("| target | goal | measured | met |")
emit("|---|---|---|---|")
local function target(name, goal, value, ok)
  emit(("| %s | %s | %s | %s |"):format(name, goal, value and ("%.2f"):format(value) or "n/a",
    value == nil and "n/a" or (ok and "yes" or "**no**")))
end
local aot = med("startup", "luatrace AOT", "first_ms")
local warm = med("startup", "luatrace C text, warm cache", "first_ms")
local cold = med("startup", "luatrace C text, cold cache", "first_ms")
target("AOT tool: first event (ms)", "<= 10", aot, aot and aot <= 10)
target("warm C text: first event (ms)", "<= 1.5x AOT", warm, warm and aot and warm <= 1.5 * aot)
target("cold C text: first event (ms)", "<= 150", cold, cold and cold <= 150)
local rss = med("startup", "luatrace AOT", "rss_mb")
target("AOT tool: peak RSS (MB)", "<= 10", rss, rss and rss <= 10)
local LR = "luatrace, ring buffer (C text as documented)"
-- the rate target on the workload fast enough to show it (io_uring), the
-- rest on both event workloads
local uev = med("uring", LR, "events_per_s")
target("events into a Lua callback, io_uring (/s)", ">= 3M, no loss", uev,
  uev and uev >= 3e6 and (med("uring", LR, "lost") or 1) == 0)
local ev = med("events", LR, "events_per_s")
local bt_ev = med("events", "bpftrace (printf)", "events_per_s")
local bcc_ev = med("events", "BCC Python, perf buffer", "events_per_s")
for _, w in ipairs({ "uring", "events" }) do
  local lcpu = med(w, LR, "cpu_ns_per_event")
  local fcpu = med(w, "C floor, ring buffer, batched wakeups", "cpu_ns_per_event")
  target(("consumer CPU per event vs C floor, batched, %s (x)"):format(w == "uring" and "io_uring" or "getppid"),
    "<= 1.5", lcpu and fcpu and lcpu / fcpu, lcpu and fcpu and lcpu / fcpu <= 1.5)
end
local pev = med("events", "luatrace, perf buffer (C text)", "events_per_s")
target("perf buffer events into Lua (/s)", ">= 200k", pev, pev and pev >= 2e5)
if bt_ev then target("events into Lua vs bpftrace printf, getppid (x)", ">= 10", ev and ev / bt_ev, ev and ev / bt_ev >= 10) end
if bcc_ev then target("events into Lua vs BCC perf buffer, getppid (x)", ">= 10", ev and ev / bcc_ev, ev and ev / bcc_ev >= 10) end
local base = med("overhead", "no probe", "ns_per_call")
local function over(v) local x = med("overhead", v, "ns_per_call"); return x and base and (x - base) end
local lc, fc = over("luatrace, hash by comm"), over("C floor, hash by comm")
target("count-by-comm overhead vs C floor (x)", "<= 1.10", lc and fc and lc / fc, lc and fc and lc / fc <= 1.10)
local lf, ff = med("mapfill", "luatrace, update_batch()", "fill_ms"), med("mapfill", "C floor, batch update", "fill_ms")
target("100k map fill vs C batch (x)", "<= 1.5", lf and ff and lf / ff, lf and ff and lf / ff <= 1.5)
local lr, fr = med("mapread", "luatrace, items()", "read_ms"), med("mapread", "C floor, batch", "read_ms")
target("100k map read-out vs C batch (x)", "<= 1.5", lr and fr and lr / fr, lr and fr and lr / fr <= 1.5)

local text = table.concat(out, "\n") .. "\n"
io.stdout:write(text)
local fh = io.open(B .. "/results.md", "w"); fh:write(text); fh:close()
-- only a complete run replaces the published numbers
if os.getenv("BENCH_NO_DOC") ~= "1" and not ONLY then
  local doc = io.open(ROOT .. "/docs/PERFORMANCE.md", "r")
  local old = doc and doc:read("*a") or ""
  if doc then doc:close() end
  -- keep the hand-written analysis below the marker
  local notes = old:match("\n(<!%-%- analysis %-%->.*)$") or ""
  doc = io.open(ROOT .. "/docs/PERFORMANCE.md", "w")
  doc:write(text, notes ~= "" and ("\n" .. notes) or "")
  doc:close()
end
log("done in %.0fs", (core.monotonic_ns() - T0) / 1e9)
-- every tool beside libbpf-tools (its own section of docs/PERFORMANCE.md)
if not ONLY or ("," .. ONLY .. ","):find(",tools,", 1, true) then dofile(ROOT .. "/bench/tools.lua") end

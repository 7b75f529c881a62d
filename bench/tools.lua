-- bench/tools.lua: every tool's time to first event and peak RSS, beside
-- Debian's libbpf-tools binary of the same name, in one run.
--
--   build/luatrace bench/tools.lua        (make bench runs it after run.lua)
--
-- A trigger process (bench/progs/trigger.c, comm "trigger") makes every
-- event kind over and over; execs come from a second one (`trigger
-- exec`), run only around the tools that wait for them (execs = true). Each tool is started under bench/progs/runner
-- on a pseudo-terminal (so libbpf-tools' printf output is line-buffered,
-- as on a user's terminal) and timed from exec to its first event line
-- (a line holding the tool's marker: the trigger's file, comm or host),
-- then interrupted; peak RSS is the tool's own (wait4). Summary tools
-- (histograms, counts) print nothing per event: they are timed to their
-- first line ("Tracing ...", printed once attached), and so are tools
-- whose event the trigger cannot make (bashreadline, biosnoop). luatrace
-- runs twice: as shipped (minimized BTF, luatrace.bpf.minbtf) and with
-- LUATRACE_MIN_BTF=0 (libbpf reads the whole kernel BTF). Rounds are
-- interleaved, runs 200 ms apart (a run's detach, still going on in the
-- kernel after its exit, slowed the next tool's attach: killsnoop and
-- statsnoop, 6-9 ms alone, measured 11-15 ms right after other tools);
-- the table gives medians.
--
-- Environment: BENCH_TOOL_ROUNDS (3), BENCH_TOOLS (space-separated names),
-- BENCH_NO_DOC=1 (leave docs/PERFORMANCE.md alone). Results go to stdout,
-- build/bench/tools.md and docs/PERFORMANCE.md between <!-- tools --> and
-- <!-- /tools --> (below run.lua's analysis marker, which it keeps).
local core = require "luatrace.core"

local ROOT = core.exe_path():match("^(.*)/build/[^/]*$") or "."
local B = ROOT .. "/build/bench"
local LT = core.exe_path()
local ROUNDS = tonumber(os.getenv("BENCH_TOOL_ROUNDS") or "3")
local LIBBPF_TOOLS = "/usr/sbin"

local C = dofile(ROOT .. "/bench/common.lua")
local q, sh, median = C.q, C.sh, C.median
local function log(fmt, ...) io.stderr:write(("bench tools: " .. fmt .. "\n"):format(...)) end

-- Per tool: its arguments (both sides, unless lb= differs) and the marker
-- of an event line; no marker: timed to the first line.
local TRIGGER_FILE = "lt-bench-trigger"
local SPECS = {
  execsnoop = { marker = "true", execs = true },
  exitsnoop = { marker = "true", execs = true },
  opensnoop = { marker = TRIGGER_FILE },
  statsnoop = { marker = TRIGGER_FILE },
  sigsnoop = { marker = "trigger" },
  killsnoop = { marker = "trigger" },
  mountsnoop = { marker = "trigger" },
  tcpconnect = { marker = "trigger" },
  tcplife = { marker = "trigger" },
  tcpstates = { marker = "trigger" },
  tcpaccept = { marker = "trigger" },
  gethostlatency = { marker = "localhost" },
  capable = { marker = "trigger" },
  funccount = { args = "t:syscalls:sys_enter_getppid" },
  flamegraph = { skip = "a converter (folded stacks on stdin to SVG), no tracing" },
  funclatency = { args = "c:getaddrinfo", lb = "/lib/x86_64-linux-gnu/libc.so.6:getaddrinfo" },
}

-- The tools luatrace lists (`luatrace -m`), and which libbpf-tools has.
local function tools()
  local only = os.getenv("BENCH_TOOLS")
  local want
  if only and only ~= "" then
    want = {}
    for n in only:gmatch("%S+") do want[n] = true end
  end
  local list, skipped = {}, {}
  for name in sh(q(LT) .. " -m"):gmatch("\n  (%S+)") do
    if SPECS[name] and SPECS[name].skip then skipped[#skipped + 1] = name .. " (" .. SPECS[name].skip .. ")"
    elseif not want or want[name] then list[#list + 1] = name end
  end
  return list, skipped
end

-- Start a trigger (bench/progs/trigger.c) with args; its pid.
local function trigger(args)
  return tonumber(sh(("(%s %s >/dev/null 2>&1 & echo $!)"):format(q(B .. "/trigger"), args or "")))
end

local function exists(p) local f = io.open(p); if f then f:close() end; return f ~= nil end

-- One timed run: {first_ms, rss_mb} or nil and the first line it printed.
local function run(cmd, marker, env)
  local args = { q(B .. "/runner"), "-t", "-i", "-w", "15" }
  if marker then args[#args + 1] = "-m " .. q(marker) end
  local out = sh(("%s %s -- %s"):format(env or "", table.concat(args, " "), cmd))
  local line = out:match("RUNNER ([^\n]+)")
  if not line then return nil, out:match("^[^\r\n]*") end
  local r = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) end
  -- a failure: no marker line, or (timed to the first line) a first line
  -- that is an error; the exit status after SIGINT says nothing (some
  -- libbpf-tools exit 1 when their sleep is interrupted)
  local first = out:match("^[^\r\n]*")
  local err = first:match("^luatrace:") or first:match("^libbpf:") or first:match("[Ff]ailed")
    or first:match("[Ee]rror") or first:match("Can't") or first:match("^[Uu]sage")
  if r.first_ms < 0 or (not marker and err) then
    if r.status == 128 + 9 and r.first_ms < 0 then first = "no event line within 15 s" end
    if first:match("^%s*$") then first = "exit status " .. r.status end
    return nil, first
  end
  return { first_ms = r.first_ms, rss_mb = r.maxrss_kb / 1024 }
end

local VARIANTS = {
  { key = "lt", label = "luatrace", cmd = function(t, a) return ("%s -m %s %s"):format(q(LT), t, a) end },
  { key = "full", label = "luatrace, full kernel BTF", env = "LUATRACE_MIN_BTF=0",
    cmd = function(t, a) return ("%s -m %s %s"):format(q(LT), t, a) end },
  { key = "lb", label = "libbpf-tools", cmd = function(t, a, spec)
    local bin = LIBBPF_TOOLS .. "/" .. t
    if not exists(bin) then return nil end
    return ("%s %s"):format(q(bin), spec.lb or a)
  end },
}

-- ---- run ----
local list, skipped = tools()
local main_trigger = trigger()
local T0 = core.monotonic_ns()
local results, why = {}, {}
for _, t in ipairs(list) do
  results[t] = { lt = {}, full = {}, lb = {} }
  why[t] = {}
  -- one unmeasured run: builds this kernel's minimized BTF for the tool
  local spec = SPECS[t] or {}
  local execs = spec.execs and trigger("exec")
  run(VARIANTS[1].cmd(t, spec.args or "", spec), spec.marker)
  if execs then os.execute("kill " .. execs) end
end
for round = 1, ROUNDS do
  for _, t in ipairs(list) do
    local spec = SPECS[t] or {}
    local execs = spec.execs and trigger("exec")
    if execs then core.sleep(20) end -- its first execs are under way
    for _, v in ipairs(VARIANTS) do
      local cmd = v.cmd(t, spec.args or "", spec)
      if not cmd then
        why[t][v.key] = "not in libbpf-tools"
      else
        -- the previous run's detach goes on in the kernel after its exit
        -- (tracepoint and uprobe teardown waits for grace periods, and
        -- holds the locks the next attach takes): let it end first, as
        -- bench/bt_startup.lua does
        core.sleep(200)
        local r, err = run(cmd, spec.marker, v.env)
        if r then
          table.insert(results[t][v.key], r)
        else
          why[t][v.key] = err
        end
      end
    end
    if execs then os.execute("kill " .. execs) end
  end
  log("round %d/%d done (%.0fs)", round, ROUNDS, (core.monotonic_ns() - T0) / 1e9)
end
os.execute("kill " .. main_trigger)

-- ---- report ----
-- "median (min)": on a shared machine the minimum is the quiet case
local function cell(rs, metric, unit)
  local xs = {}
  for _, r in ipairs(rs) do xs[#xs + 1] = r[metric] end
  local m = median(xs)
  if not m then return nil end
  table.sort(xs)
  return ("%.1f %s (%.1f)"):format(m, unit, xs[1]), m
end

local out = {}
local function emit(s) out[#out + 1] = s end
emit("<!-- tools -->")
emit("## Tools: time to first event and peak RSS, beside libbpf-tools")
emit("")
emit(("Measured %s, kernel %s, libbpf-tools %s; %d rounds, medians. `build/luatrace bench/tools.lua` "
  .. "(or `make bench`) reproduces it. *event*: exec to the first line of an event the trigger made; "
  .. "*ready*: exec to the first line (summary tools, and events the trigger cannot make). "
  .. "Cells: median (min). Target: at most 10 ms and 10 MB per tool (medians)."):format(os.date("!%Y-%m-%d %H:%M UTC"),
  sh("uname -r"):gsub("%s", ""), sh("dpkg-query -W -f='${Version}' libbpf-tools"), ROUNDS))
emit("")
emit("| tool | to | luatrace | RSS | full kernel BTF (LUATRACE_MIN_BTF=0) | RSS | libbpf-tools | RSS | target met |")
emit("|---|---|---|---|---|---|---|---|---|")
local met, total = 0, 0
for _, t in ipairs(list) do
  local spec = SPECS[t] or {}
  local row = { t, spec.marker and "event" or "ready" }
  local lt_first, lt_rss
  for _, v in ipairs(VARIANTS) do
    local rs = results[t][v.key]
    local f, fm = cell(rs, "first_ms", "ms")
    local r, rm = cell(rs, "rss_mb", "MB")
    if v.key == "lt" then lt_first, lt_rss = fm, rm end
    if f then
      row[#row + 1] = f; row[#row + 1] = r
    else
      local w = (why[t][v.key] or "no run"):gsub("|", "/"):sub(1, 90)
      row[#row + 1] = "fails: " .. w; row[#row + 1] = ""
    end
  end
  local ok = lt_first and lt_first <= 10 and lt_rss <= 10
  if lt_first then total = total + 1; if ok then met = met + 1 end end
  row[#row + 1] = lt_first and (ok and "yes" or "**no**") or "n/a"
  emit("| " .. table.concat(row, " | ") .. " |")
end
emit("")
emit(("%d of %d tools met both targets."):format(met, total))
if #skipped > 0 then emit("Not measured: " .. table.concat(skipped, "; ") .. ".") end
emit("<!-- /tools -->")

local text = table.concat(out, "\n") .. "\n"
io.stdout:write(text)
os.execute("mkdir -p " .. q(B))
local fh = io.open(B .. "/tools.md", "w"); fh:write(text); fh:close()
if os.getenv("BENCH_NO_DOC") ~= "1" and not os.getenv("BENCH_TOOLS") then
  local path = ROOT .. "/docs/PERFORMANCE.md"
  local doc = io.open(path); local old = doc and doc:read("*a") or ""; if doc then doc:close() end
  local a, b = old:find("<!%-%- tools %-%->.-<!%-%- /tools %-%->\n?")
  local new
  if a then new = old:sub(1, a - 1) .. text .. old:sub(b + 1)
  else new = old .. (old:sub(-1) == "\n" and "\n" or "\n\n") .. text end
  doc = io.open(path, "w"); doc:write(new); doc:close()
end
log("done in %.0fs", (core.monotonic_ns() - T0) / 1e9)

-- bench/listing.lua: `luatrace -l` against `bpftrace -l`, wall time and
-- peak RSS (medians of BENCH_ROUNDS runs, default 5, interleaved).
--   build/luatrace bench/listing.lua
-- Output lists only are compared (to /dev/null); stderr is dropped (here
-- bpftrace cannot read available_filter_functions and warns).
local core = require "luatrace.core"

local LT = core.exe_path()
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS") or "5")
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local have_bt = os.execute("command -v bpftrace >/dev/null 2>&1")
have_bt = have_bt == true or have_bt == 0

-- One run: wall ms (our clock) and peak RSS KB (GNU time's %M, else nil).
local function once(cmd)
  local rss_file = os.tmpname()
  local t0 = core.monotonic_ns()
  os.execute(("/usr/bin/time -f %%M -o %s %s >/dev/null 2>&1"):format(rss_file, cmd))
  local ms = (core.monotonic_ns() - t0) / 1e6
  local fh = io.open(rss_file); local rss = fh and tonumber(fh:read("*a"):match("(%d+)%s*$")); if fh then fh:close() end
  os.remove(rss_file)
  return ms, rss
end

local function median(t)
  table.sort(t)
  return t[math.ceil(#t / 2)]
end

local cases = {
  { "everything", "-l" },
  { "tracepoint:*", "-l 'tracepoint:*'" },
  { "kprobe:*", "-l 'kprobe:*'" },
  { "kfunc:*", "-l 'kfunc:*'" },
  { "-lv tracepoint", "-lv 'tracepoint:syscalls:sys_enter_openat'" },
  { "-lv struct task_struct", "-lv 'struct task_struct'" },
}

print(("| pattern | luatrace ms | luatrace RSS MB | bpftrace ms | bpftrace RSS MB | lines (luatrace / bpftrace) |"))
print("|---|---|---|---|---|---|")
for _, c in ipairs(cases) do
  local lt_ms, lt_rss, bt_ms, bt_rss = {}, {}, {}, {}
  for _ = 1, ROUNDS do
    lt_ms[#lt_ms + 1], lt_rss[#lt_rss + 1] = once(q(LT) .. " " .. c[2])
    if have_bt then bt_ms[#bt_ms + 1], bt_rss[#bt_rss + 1] = once("bpftrace " .. c[2]) end
  end
  local function count(cmd)
    local p = io.popen(cmd .. " 2>/dev/null | wc -l"); local n = p:read("*a"):match("%d+"); p:close(); return n
  end
  local function mb(t) return #t > 0 and ("%.1f"):format(median(t) / 1024) or "-" end
  print(("| `%s` | %.0f | %s | %s | %s | %s / %s |"):format(c[2], median(lt_ms), mb(lt_rss),
    have_bt and ("%.0f"):format(median(bt_ms)) or "-", mb(bt_rss),
    count(q(LT) .. " " .. c[2]), have_bt and count("bpftrace " .. c[2]) or "-"))
end

-- luatrace.bpftrace.runtime: a compiled bpftrace program, loaded through
-- lt.BPF{text=} (the compile cache), attached, and run: BEGIN, events,
-- interval and exit, END, maps printed at the end, as bpftrace does.
--
-- Every probe attaches first, then BEGIN runs (bpftrace's order). BEGIN
-- and END are raw_tracepoint programs that nothing attaches: the runtime
-- runs them once in this process (obj:run, BPF_PROG_TEST_RUN), so they
-- see this process as current, like bpftrace's BEGIN_trigger uprobe, but
-- with no uprobe to register (a grace period each) nor symbol to find.
local ffi = require "ffi"
local core = require "luatrace.core"
local types = require "luatrace.types"
local fmt = require "luatrace.bpftrace.format"
local errors = require "luatrace.bpftrace.errors"

local M = {}
local P = {}
P.__index = P

local u64p = ffi.typeof("const uint64_t *")
local CPU_SHIFT = ffi.new("uint64_t", 4294967296) -- a record's id: the event, and the CPU << 32

-- The output ring's size in bytes: bpftrace's perf_rb_pages (default 64)
-- are per CPU, and so is this ring's share of them, rounded up to a power
-- of two; the default stops at 4 MB (a 1 MB ring took 0.19 ms of a
-- one-liner's 4.5 ms start to create and map here).
function M.ring_bytes(per_cpu)
  local pages = (per_cpu or 64) * core.possible_cpus()
  local p2 = 1
  while p2 < pages do p2 = p2 * 2 end
  if not per_cpu then p2 = math.min(p2, 1024) end
  return p2 * 4096
end

function M.load(compiled, opts)
  local lt = require "luatrace"
  local self = setmetatable({
    compiled = compiled, opts = opts, probes = compiled.probes, events = compiled.events,
    mapdesc = compiled.maps, printf_cbs = {}, links = {}, json = opts.format == "json",
  }, P)
  -- text made by records waits, per CPU, until their batch is handled
  -- (P:flush, luatrace.bpftrace.cpugroups)
  local raw = opts.out or function(s) io.stdout:write(s); io.stdout:flush() end
  self.pending = require("luatrace.bpftrace.cpugroups").new(raw)
  self.write = function(s)
    if self.cur_cpu then return self.pending:add(self.cur_cpu, s) end
    self.pending:flush()
    raw(s)
  end
  -- probes skipped as bpftrace skips them (missing uprobe symbols): a
  -- warning each; none left is an error
  local warn = opts.warn or function(s) io.stderr:write(s) end
  for _, w in ipairs(compiled.warnings or {}) do warn("WARNING: " .. w .. "\n") end
  if #self.probes == 0 then
    error("bpftrace program" .. (opts.name and (" " .. opts.name) or "") ..
      ": no probes to attach (every probe was skipped)", 0)
  end
  local ok, b = pcall(lt.BPF, { text = compiled.c, vmlinux = compiled.vmlinux, origin = { file = "bpftrace:" .. (opts.name or "stdin"), line = 1 },
    max_entries = { lt_bt_out = M.ring_bytes(compiled.ring_pages) },
    globals = { lt_bt_target_pid = opts.pid or 0, lt_bt_cpid = opts.cmd_pid or 0,
      lt_bt_start_ns = tonumber(core.monotonic_ns()) } })
  if not ok then
    if tostring(b):find("bpf_override_return", 1, true) then
      b = "override(): this kernel refuses bpf_override_return (it needs CONFIG_BPF_KPROBE_OVERRIDE " ..
        "and a function on the error-injection list): " .. tostring(b):match("[^\n]*")
    end
    error(b, 0)
  end
  self.bpf = b
  -- record types, from the object's BTF
  for _, ev in ipairs(self.events) do ev.ptr = types.ptr(b:object(), ev.struct) end
  b.lt_bt_out:open_ring_buffer(function(p) self:record(p) end)
  if compiled.skb_files then -- skboutput(): packets into pcap files
    local ok3, w = pcall(require("luatrace.bpftrace.pcap").open, compiled.skb_files)
    if not ok3 then b:cleanup(); error(w, 0) end
    self.pcap = w
    b.lt_bt_skb:open_perf_buffer(function(p, size) w:record(p, size) end)
  end
  self.maps = setmetatable({}, { __index = function(_, name) return self:map_view(name) end })
  self:header()
  -- BEGIN runs before the probes attach (its run is a bpf() call of ours,
  -- which kprobes on bpf or capability functions would trace; bpftrace's
  -- uprobe trigger is not traced), but its records wait in the ring until
  -- every probe is attached: BEGIN's output still means "attached".
  self:trigger("BEGIN", true)
  local ok2, err = pcall(self.attach_probes, self)
  if not ok2 then self:close(); error(err, 0) end
  self:drain()
  return self
end

-- How many kernel attachments the probes make (bpftrace's count: every
-- function a wildcard kprobe matches is one).
function P:probe_count()
  local n = 0
  for _, p in ipairs(self.probes) do n = n + (p.targets and #p.targets or 1) end
  return n
end

function P:header()
  local n = self:probe_count()
  if self.json then
    self.write(('{"type": "attached_probes", "data": {"probes": %d}}\n'):format(n))
  else
    self.write(("Attaching %d probe%s...\n"):format(n, n == 1 and "" or "s"))
  end
end

-- Attach every probe but BEGIN and END (run, not attached). The uprobes
-- (wildcard matches too) attach together at the end: the kernel's waits
-- overlap.
function P:attach_probes()
  local b = self.bpf
  local batch = {}
  for _, p in ipairs(self.probes) do
    local k, fn = p.kind, p.fname
    if p.targets then
      self:attach_targets(p, fn, batch)
    elseif k == "BEGIN" or k == "END" then -- run, not attached (trigger)
    elseif k == "tracepoint" then
      b:attach_tracepoint { tp = p.cat .. ":" .. p.event, fn_name = fn }
    elseif k == "rawtracepoint" then
      b:attach_raw_tracepoint { tp = p.tp, fn_name = fn }
    elseif k == "kprobe" then
      b:attach_kprobe { event = p.func, event_off = p.offset, fn_name = fn }
    elseif k == "kretprobe" then
      b:attach_kretprobe { event = p.func, fn_name = fn }
    elseif k == "uprobe" or k == "uretprobe" then
      local o = { name = p.path, fn_name = fn, pid = self.opts.pid or -1, retprobe = k == "uretprobe" }
      if p.addr then o.addr = p.addr else o.sym = p.func end
      batch[#batch + 1] = o
    elseif k == "usdt" then
      self.links[#self.links + 1] = core.attach_usdt(b:object(), fn, p.path, p.provider, p.probe)
    elseif k == "profile" then
      b:attach_perf_event { ev_type = 1, ev_config = 0, fn_name = fn,
        sample_freq = p.freq, sample_period = not p.freq and p.period_ns or nil,
        pid = self.opts.pid }
    elseif k == "interval" then
      b:attach_perf_event { ev_type = 1, ev_config = 0, fn_name = fn, cpu = 0,
        sample_period = p.period_ns }
    elseif k == "software" or k == "hardware" then
      b:attach_perf_event { ev_type = p.ev_type, ev_config = p.ev_config, fn_name = fn,
        sample_period = p.period, pid = self.opts.pid }
    end
    -- kfunc/kretfunc attach from their sections when the object loads
  end
  if #batch > 0 then b:attach_uprobes(batch) end
end
-- A probe attached to many functions: one link per match, its cookie the
-- index of the match's func and probe names in lt_bt_names.
function P:attach_targets(p, fn, batch)
  local b = self.bpf
  local names = self.compiled.need_names and b:object():map("lt_bt_names")
  local NAMELEN = 128
  for _, t in ipairs(p.targets) do
    local cookie = self.next_cookie or 0
    self.next_cookie = cookie + 1
    if names then
      local key = ffi.new("uint32_t[1]")
      for slot, text in pairs({ [0] = t.func, [1] = t.name }) do
        key[0] = cookie * 2 + slot
        names:update(ffi.string(key, 4), text:sub(1, NAMELEN - 1) .. ("\0"):rep(NAMELEN - math.min(#text, NAMELEN - 1)))
      end
    end
    local k = p.kind
    if k == "tracepoint" then
      b:attach_tracepoint { tp = t.cat .. ":" .. t.event, fn_name = fn, cookie = cookie }
    elseif k == "kprobe" then
      b:attach_kprobe { event = t.func, event_off = t.offset, fn_name = fn, cookie = cookie }
    elseif k == "kretprobe" then
      b:attach_kretprobe { event = t.func, fn_name = fn, cookie = cookie }
    else
      local o = { name = t.path, fn_name = fn, pid = self.opts.pid or -1, cookie = cookie,
        retprobe = k == "uretprobe" }
      if t.addr then o.addr = t.addr else o.sym = t.func end
      batch[#batch + 1] = o
    end
  end
end

-- Run the BEGIN or END programs; their records are drained unless
-- keep (BEGIN: drained once the probes are attached).
function P:trigger(kind, keep)
  local any = false
  for _, p in ipairs(self.probes) do
    if p.kind == kind then
      self.bpf:object():run(p.fname)
      any = true
    end
  end
  if any and not keep then self:drain() end
end

function P:drain()
  self.bpf:ring_buffer_consume()
  self:flush()
end

-- Write the text of the records handled so far.
function P:flush()
  self.cur_cpu = nil
  self.pending:flush()
end

function P:out(kind, text)
  if self.json then
    self.write(('{"type": "%s", "data": %s}\n'):format(kind, fmt.jstr(text)))
  else
    self.write(text)
  end
end

-- One record from the ring buffer.
function P:record(p)
  if (self.exiting or self.stopping) and not self.in_end then return end
  local head = ffi.cast(u64p, p)[0]
  local ev = self.events[tonumber(head % CPU_SHIFT)]
  if not ev then return end
  -- while END runs, only its records: not the events its run made (the
  -- bpf() call is traced by kprobes on bpf or capability functions) nor
  -- the others still in the ring (dropped after exit() or a stop anyway)
  if self.in_end and ev.from ~= "END" then return end
  self.cur_cpu = tonumber(head / CPU_SHIFT)
  local rec = ffi.cast(ev.ptr, p)
  local k = ev.kind
  if k == "printf" then
    local s = fmt.printf(self, ev.fmt, ev.specs, ev.fields, rec)
    for _, cb in ipairs(self.printf_cbs) do cb(s) end
    if not self.quiet_printf then self:out("printf", s) end
  elseif k == "time" then
    self:out("time", os.date(ev.fmt))
  elseif k == "exit" then
    self.exiting = true
  elseif k == "print" then
    local m = self.mapdesc[ev.map]
    if m then self:print_map(m, ev.top, ev.div) end
  elseif k == "print_value" then
    if self.json then
      self.write(('{"type": "value", "data": %s}\n'):format(fmt.json_value(self, ev.fields[1], rec.a0)))
    else
      local v = fmt.value(self, ev.fields[1], rec.a0)
      if type(v) == "table" then v = table.concat(v, " ") end
      self.write(v .. "\n")
    end
  elseif k == "clear" or k == "zero" then
    local m = self.mapdesc[ev.map]
    if m then self:clear_map(m, k == "zero") end
  elseif k == "join" then
    local parts = fmt.value(self, ev.fields[1], rec.a0)
    self:out("join", table.concat(parts, ev.sep) .. "\n")
  elseif k == "cat" then
    local path = fmt.printf(self, ev.fmt, ev.specs, ev.fields, rec)
    local fh = io.open(path)
    if fh then
      self:out("cat", fh:read("*a"))
      fh:close()
    else
      io.stderr:write(("ERROR: failed to open file '%s'\n"):format(path))
    end
  elseif k == "system" then
    local cmd = fmt.printf(self, ev.fmt, ev.specs, ev.fields, rec)
    io.stdout:flush()
    local ph = io.popen(cmd)
    if ph then
      self:out("system", ph:read("*a"))
      ph:close()
    end
  end
  self.cur_cpu = nil
end

function P:stack_addrs(id)
  return self.bpf:get_table("lt_bt_stacks"):walk(id)
end

-- The maps' side (printing, clearing, Lua views) is in
-- luatrace.bpftrace.runtime_maps, loaded at its first use: at exit, or
-- when Lua reads p.maps (a warm one-liner starts without it).
local function rmaps() return require "luatrace.bpftrace.runtime_maps" end
function P:print_map(m, top, div) return rmaps().print_map(self, m, top, div) end
function P:clear_map(m, zero) return rmaps().clear_map(self, m, zero) end
function P:map_names() return rmaps().map_names(self) end
function P:print_maps() return rmaps().print_maps(self) end
function P:map_view(name) return rmaps().map_view(self, name) end

function P:on_printf(fn) self.printf_cbs[#self.printf_cbs + 1] = fn end

function P:stop() self.stopping = true end

-- Run until exit(), a signal, opts.duration_ms, opts.until_fn() or stop();
-- then END, the maps, and detach. Returns true when exit() ended it.
function P:run(o)
  o = o or {}
  local deadline = o.duration_ms and (tonumber(core.monotonic_ns()) + o.duration_ms * 1e6)
  local b = self.bpf
  local signalled = false
  while not self.exiting and not self.stopping do
    local wait = 200
    if deadline then
      local left = (deadline - tonumber(core.monotonic_ns())) / 1e6
      if left <= 0 then break end
      wait = math.max(1, math.min(wait, math.floor(left)))
    end
    local r = b:poll(wait)
    self:flush()
    if r == false then signalled = true; break end
    if o.until_fn and o.until_fn() then break end
    if self.opts.until_fn and self.opts.until_fn() then break end
  end
  local by_exit = self.exiting
  self:finish()
  return by_exit, signalled
end

function P:finish()
  if self.finished then return end
  self.finished = true
  -- what is already in the ring first, as any drain (a -c command's
  -- last events); then END, whose records print even after exit() or
  -- stop() (bpftrace's order)
  self:drain()
  self.in_end = true
  self:trigger("END")
  self.in_end = false
  if self.opts.print_maps ~= false then
    self.write("\n\n")
    self:print_maps()
  end
  -- Lua users read p.maps after the run: keep what the maps held
  if not self.opts.cli then
    local snap = {}
    for name in pairs(self.mapdesc) do snap[name] = self:map_view(name) end
    self.snapshot = snap
  end
  self:close()
end

function P:close()
  if self.pcap then -- the last packets (a poll after Ctrl-C raises "interrupted")
    if self.bpf then pcall(self.bpf.poll, self.bpf, 0) end
    self.pcap:close()
    self.pcap = nil
  end
  self:flush()
  core.close_links(self.links) -- together: one wait for the kernel's detaches
  self.links = {}
  if self.bpf then self.bpf:cleanup(); self.bpf = nil end
end

return M

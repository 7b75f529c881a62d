-- luatrace.bpf.channels: the event channels of one BPF object (ring and
-- perf buffers opened on its output maps), their pollers, the drain into
-- callbacks, and lost-record reporting. Tables open channels through this
-- object (t:open_ring_buffer), BPF polls it (b:ring_buffer_poll).
--
-- Record types: an explicit {type=}, else the type csource found for a
-- text= program, else the type the object exports for the map with
-- LT_EXPORT_TYPE(type, map) (an object exporting a single type uses it for
-- every buffer). Callbacks get a typed pointer, AOT objects as text ones.
local core = require "luatrace.core"
local types = require "luatrace.types"
local events = require "luatrace.events"
local args = require "luatrace.bpf.args"

local M = {}
local Channels = {}
Channels.__index = Channels

-- on_error(err): called when a callback raised (before the error goes on).
function M.new(obj, event_types, on_error)
  return setmetatable({ obj = obj, types = event_types or {}, on_error = on_error,
    list = {}, pollers = {} }, Channels)
end

local function exported_type(self, name)
  if not self.exports then self.exports = core.btf_exports(self.obj) end
  local id = self.exports[name]
  if id then return id end
  local only, n = nil, 0
  for _, v in pairs(self.exports) do only, n = v, n + 1 end
  if n == 1 then return only end
  return nil
end

-- The pointer ctype of map name's records (nil: raw bytes).
function Channels:event_ptr(name, explicit)
  local ty = explicit or self.types[name] or exported_type(self, name)
  if not ty then return nil end
  return types.ptr(self.obj, ty)
end

local POLLERS = { ring = "ring", perf = "perf" }

-- Open a channel on map `name`: kind "ring" or "perf"; opts: type,
-- page_cnt, lost_cb. Losses go to lost_cb(count) or a warning on stderr.
function Channels:open(name, kind, cb, opts)
  local what = ("open_%s_buffer %s"):format(kind, name)
  if type(cb) ~= "function" then args.raisef("%s: a callback function is needed", what) end
  if opts ~= nil and type(opts) ~= "table" then
    args.raisef("%s: options must be a table, got %s", what, type(opts))
  end
  opts = opts or {}
  args.check_value(what, "page_cnt", opts.page_cnt, "integer")
  args.check_value(what, "lost_cb", opts.lost_cb, "function")
  args.check_value(what, "wakeup_bytes", opts.wakeup_bytes, "integer")
  local latency = opts.latency_ms == nil and M.default_latency_ms or opts.latency_ms
  if type(latency) ~= "number" or latency <= 0 then
    args.raisef("%s: latency_ms must be a positive number of milliseconds", what)
  end
  if opts.type ~= nil and type(opts.type) ~= "string" and type(opts.type) ~= "number" then
    args.raisef("%s: type= must be a type name, got %s", what, type(opts.type))
  end
  if self.list[name] then args.raisef("%s: already open", what) end
  local map = self.obj:map(name)
  local chan
  if kind == "ring" then
    local lost_map
    local lost_name = name .. "__lost"
    for _, m in ipairs(self.obj:maps()) do
      if m.name == lost_name then lost_map = self.obj:map(lost_name) end
    end
    chan = core.ring_buffer(map, { lost_map = lost_map })
  else
    chan = core.perf_buffer(map, opts.page_cnt or 64, opts.wakeup_bytes)
  end
  local ok, ptr = pcall(self.event_ptr, self, name, opts.type)
  if not ok then chan:close(); error(ptr, 0) end
  self.list[name] = { name = name, kind = kind, chan = chan, cb = cb, ptr = ptr,
                      lost_cb = opts.lost_cb, lost_seen = 0, lost_due = 0, latency = latency }
  for _, key in ipairs({ POLLERS[kind], "all" }) do
    self.pollers[key] = self.pollers[key] or core.poller()
    self.pollers[key]:add(chan)
  end
  return chan
end

-- Losses of channel c since the last report go to its lost_cb or stderr.
-- cached: unless c's latency has passed since its lost map was last read,
-- use that read: it is a syscall (~3 us on the benchmark VM), and a poll
-- loop keeping up with millions of events/s drains tens of thousands of
-- times per million records.
local function check_lost(c, cached)
  local now = cached and core.monotonic_ns()
  cached = cached and now < c.lost_due
  if not cached then c.lost_due = (now or core.monotonic_ns()) + c.latency * 1e6 end
  local lost = c.chan:lost(cached)
  if lost > c.lost_seen then
    local n = lost - c.lost_seen
    c.lost_seen = lost
    if c.lost_cb then c.lost_cb(n)
    else io.stderr:write(("luatrace: lost %d events on %s buffer %s\n"):format(n, c.kind, c.name)) end
  end
end

-- An interrupt (SIGINT/SIGTERM raised as an error inside a callback) is
-- not the callback's failure: the object stays open for the summary.
local function is_interrupt(err)
  return type(err) == "string" and err:find("interrupted$") ~= nil and core.interrupted()
end

-- Drain channels of `kind` (nil: all) into their callbacks; lost records
-- are reported (from the lost maps' reads of the latency tick when
-- lost_cached). A Lua error in a callback stops everything: on_error runs
-- (BPF detaches) and the error goes on as the script's, with the
-- callback's frames under -v.
function Channels:drain(kind, lost_cached)
  local total = 0
  local ok, err = xpcall(function()
    for _, c in pairs(self.list) do
      if not kind or c.kind == kind then
        total = total + events.drain_all(c.chan, c.ptr, c.cb)
        check_lost(c, lost_cached)
      end
    end
  end, function(e)
    if is_interrupt(e) or not core.verbose() or type(e) ~= "string" then return e end
    return debug.traceback(e, 2)
  end)
  if not ok then
    if not is_interrupt(err) and self.on_error then self.on_error(err) end
    error(err, 0)
  end
  return total
end

-- The longest a poll sleeps before looking at its buffers again: programs
-- wake the consumer only when enough data waits (see the prelude), so a
-- poll drains on this tick what arrived below that threshold.
M.default_latency_ms = 5

function Channels:latency(kind)
  local l = math.huge
  for _, c in pairs(self.list) do
    if (not kind or c.kind == kind) and c.latency < l then l = c.latency end
  end
  return l
end

-- Wait for records (timeout in ms, nil: forever) and drain them: drain
-- what is there; if nothing was, sleep until a wakeup, a latency tick or
-- the timeout, and drain again. Returns the number of records handled, or
-- false once SIGINT/SIGTERM asked the script to stop (what arrived before
-- the signal is still handled); a further poll after that raises
-- "interrupted" (luatrace exits 0).
function Channels:poll(kind, timeout, what)
  timeout = args.timeout(what, timeout)
  local p = self.pollers[kind and POLLERS[kind] or "all"]
  if not p then args.raisef("%s: no buffer is open (open_ring_buffer / open_perf_buffer)", what) end
  local latency = self:latency(kind)
  local deadline = timeout and timeout >= 0 and core.monotonic_ns() + timeout * 1e6 or nil
  while true do
    local n = self:drain(kind, true)
    if n > 0 then return n end
    local wait = latency
    if deadline then
      local left = (deadline - core.monotonic_ns()) / 1e6
      if left <= 0 then return self:drain(kind) end -- losses read fresh
      if left < wait then wait = left end
    end
    if p:wait(math.ceil(wait)) == false then
      self:drain(kind)
      return false
    end
  end
end

function Channels:close()
  for _, c in pairs(self.list) do c.chan:close() end
  self.list = {}
  for _, p in pairs(self.pollers) do p:close() end
  self.pollers = {}
end

return M

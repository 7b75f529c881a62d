-- luatrace.loop: the one event loop of a process. One epoll (core.poller)
-- waits for every BPF object's ring/perf buffers, any other readable fd
-- (a metrics socket, a pipe) and the signal pipe; timers are kept here and
-- bound the wait. Several tools and objects share it:
--
--   local loop = require "luatrace.loop"
--   local L = loop.new()               -- or loop.default
--   L:add(b)                           -- a BPF object or a running tool
--   L:add_fd(fd, function(fd) ... end)
--   L:every(1000, function() ... end)  -- -> timer; timer:cancel()
--   local ok = L:run{duration_ms = 5000}   -- false after SIGINT/SIGTERM
--
-- When any channel is ready, every added object is consumed in the order
-- they were added: records of one object never wait behind another's, and
-- an event that happened before another (an exec before that process's
-- opens) is handed out first when the objects were added in that order.
local core = require "luatrace.core"

local M = {}
local Loop = {}
Loop.__index = Loop

local function now_ms() return core.monotonic_ns() / 1e6 end

function M.new()
  return setmetatable({
    poller = core.poller(),
    objs = {},                                -- BPF objects, in add order
    known = setmetatable({}, { __mode = "k" }), -- channel -> true once in epoll
    fds = {},                                 -- poller index -> {fd=, fn=}
    fd_index = {},                            -- fd -> poller index
    timers = {},
  }, Loop)
end

-- A running tool stands for its BPF object(s).
local function objects_of(x)
  if type(x) == "table" and x.open_channels then return { x } end
  if type(x) == "table" and x.objects then return x.objects end
  if type(x) == "table" and x.b then return { x.b } end
  error("loop:add: expected a BPF object or a running tool", 3)
end

-- Add a BPF object (or running tool): its open channels, and those it
-- opens later, are waited on. Returns the loop (L:add(a):add(b)).
function Loop:add(x)
  for _, b in ipairs(objects_of(x)) do
    local seen = false
    for _, o in ipairs(self.objs) do if o == b then seen = true end end
    if not seen then self.objs[#self.objs + 1] = b end
  end
  self:_sync()
  return self
end

-- Stop consuming an object (its channels close with the object).
function Loop:remove(x)
  for _, b in ipairs(objects_of(x)) do
    for i = #self.objs, 1, -1 do
      if self.objs[i] == b then
        for _, chan in ipairs(b:open_channels()) do
          if self.known[chan] then
            pcall(function() self.poller:remove_fd(chan:epoll_fd()) end)
            self.known[chan] = nil
          end
        end
        table.remove(self.objs, i)
      end
    end
  end
end

-- Channels opened since the last look join the epoll. Returns the
-- longest the wait may sleep before draining: programs may batch their
-- wakeups, and their channels then ask to be drained on a latency tick.
function Loop:_sync()
  local latency = math.huge
  for _, b in ipairs(self.objs) do
    local chans, l = b:open_channels()
    for _, chan in ipairs(chans) do
      if not self.known[chan] then
        self.poller:add(chan)
        self.known[chan] = true
      end
    end
    if #chans > 0 and l and l < latency then latency = l end
  end
  return latency
end

function Loop:_consume()
  for _, b in ipairs(self.objs) do
    if #b:open_channels() > 0 then
      b:ring_buffer_consume()
      b:perf_buffer_consume()
    end
  end
end

-- Watch a readable fd; fn(fd) runs when it is readable (level-triggered:
-- read it, or it fires again).
function Loop:add_fd(fd, fn)
  if type(fd) ~= "number" or type(fn) ~= "function" then
    error("loop:add_fd: expected (fd, function)", 2)
  end
  if self.fd_index[fd] then error(("loop:add_fd: fd %d is already watched"):format(fd), 2) end
  local idx = self.poller:add_fd(fd)
  self.fds[idx] = { fd = fd, fn = fn }
  self.fd_index[fd] = idx
end

function Loop:remove_fd(fd)
  local idx = self.fd_index[fd]
  if not idx then return end
  self.poller:remove_fd(fd)
  self.fds[idx], self.fd_index[fd] = nil, nil
end

-- Timers: fn() runs every `ms` (every) or once (after).
local Timer = {}
Timer.__index = Timer
function Timer:cancel() self.cancelled = true end

local function add_timer(self, ms, fn, period, method)
  if type(ms) ~= "number" or ms < 0 or type(fn) ~= "function" then
    error(("loop:%s: expected (milliseconds, function)"):format(method), 3)
  end
  local t = setmetatable({ due = now_ms() + ms, period = period and ms, fn = fn }, Timer)
  self.timers[#self.timers + 1] = t
  return t
end

function Loop:every(ms, fn) return add_timer(self, ms, fn, true, "every") end
function Loop:after(ms, fn) return add_timer(self, ms, fn, false, "after") end

-- Run due timers; returns the time of the next one (or nil).
function Loop:_timers(now)
  local next_due
  local i = 1
  while i <= #self.timers do
    local t = self.timers[i]
    if not t.cancelled and t.due <= now then
      if t.period then
        -- no catch-up bursts after a stall: the next tick is one period on
        t.due = math.max(t.due + t.period, now)
      else
        t.cancelled = true
      end
      t.fn()
      if self._stopped then return nil end
    end
    if t.cancelled then
      table.remove(self.timers, i)
    else
      if not next_due or t.due < next_due then next_due = t.due end
      i = i + 1
    end
  end
  return next_due
end

-- Make run() return true after the current callback.
function Loop:stop() self._stopped = true end

-- Wait and dispatch until stop(), duration_ms, until_fn() true (checked
-- after each wakeup and at least every 100 ms) or SIGINT/SIGTERM (false).
function Loop:run(o)
  -- A signal that comes while Lua code runs (a callback, a timer) raises
  -- "interrupted" from the host's hook: that too ends the run with false.
  local ok, res = pcall(self._run, self, o)
  if ok then return res end
  if core.interrupted() and tostring(res):match("interrupted$") then
    pcall(self._consume, self)
    return false
  end
  error(res, 0)
end

function Loop:_run(o)
  o = o or {}
  self._stopped = false
  local deadline = o.duration_ms and (now_ms() + o.duration_ms)
  while true do
    local latency = self:_sync()
    if self._stopped or (o.until_fn and o.until_fn()) then return true end
    local now = now_ms()
    local next_due = self:_timers(now)
    if self._stopped then return true end
    now = now_ms()
    if deadline and now >= deadline then
      self:_consume()
      return true
    end
    local wake = next_due
    if deadline and (not wake or deadline < wake) then wake = deadline end
    local timeout = wake and math.max(0, math.ceil(wake - now)) or -1
    if o.until_fn and (timeout < 0 or timeout > 100) then timeout = 100 end
    local tick = latency < math.huge and math.ceil(latency) or nil
    if tick and (timeout < 0 or timeout > tick) then timeout = tick end
    local ready = self.poller:wait(timeout)
    if ready == false then
      self:_consume() -- what arrived before the signal still counts
      return false
    end
    local chans = false
    for _, idx in ipairs(ready) do
      local f = self.fds[idx]
      if f then f.fn(f.fd) else chans = true end
      if self._stopped then break end
    end
    -- a latency tick (nothing ready) drains too
    if (chans or (tick and #ready == 0)) and not self._stopped then self:_consume() end
  end
end

function Loop:close()
  self.poller:close()
  self.objs, self.fds, self.fd_index, self.timers = {}, {}, {}, {}
end

-- loop.default: one shared instance, made on first use.
return setmetatable(M, {
  __index = function(t, k)
    if k == "default" then
      local l = M.new()
      rawset(t, "default", l)
      return l
    end
  end,
})

-- luatrace.console.session: what a console session holds and shows.
--
-- Every BPF object built during the session (BPF{...}, a bpftrace program,
-- a tool started at the prompt) is recorded, so the console can list what
-- is attached (`.probes`), close one object (`.close N`), drain the event
-- buffers of live objects while the prompt waits, and detach everything
-- at the end (Ctrl-D, exit()).
local BPF = require "luatrace.bpf"

local M = {}

local entries = {}  -- { id, kind, name, b (BPF object), handle (what to stop), source }
local next_id = 1

-- The file being run (.run FILE, -i FILE): its objects are tagged with it,
-- so running it again first closes what its last run made.
M.source = nil

-- Record a BPF object (or a handle with .b and :stop()).
function M.track(kind, name, b, handle)
  for _, e in ipairs(entries) do
    if e.b == b then -- BPF.on_new saw it first: the front end names it
      e.kind, e.name, e.handle = kind, name, handle
      return e
    end
  end
  local e = { id = next_id, kind = kind, name = name, b = b, handle = handle, source = M.source }
  next_id = next_id + 1
  entries[#entries + 1] = e
  return e
end

-- BPF{...} during the session reports here (BPF.on_new).
function M.install()
  BPF.on_new = function(b, opts)
    local name = type(opts) == "table" and (opts.obj or opts.src_file) or nil
    M.track("BPF", name or "BPF{text}", b)
  end
end

function M.uninstall()
  BPF.on_new = nil
end

local function is_open(e)
  local obj = rawget(e.b, "_obj")
  return obj ~= nil and not tostring(obj):find("(closed)", 1, true)
end

-- The open event channels of an entry's object, by map name.
local function channels(e)
  local chans = rawget(e.b, "_chans")
  return chans and chans.list or {}
end

-- Live entries (closed objects drop out of the list).
function M.live()
  local out = {}
  for _, e in ipairs(entries) do
    if is_open(e) then out[#out + 1] = e end
  end
  entries = out
  return out
end

-- The attachments of a BPF object: "kind:target:program" strings.
function M.links(b)
  local out = {}
  for _, key in ipairs(rawget(b, "_order") or {}) do
    local l = b._links[key]
    if l and l.link:count() > 0 then out[#out + 1] = key end
  end
  return out
end

-- Lines of `.probes`.
function M.probes_text()
  local lines = {}
  for _, e in ipairs(M.live()) do
    local links = M.links(e.b)
    local chans = {}
    for name in pairs(channels(e)) do chans[#chans + 1] = name end
    table.sort(chans)
    lines[#lines + 1] = ("[%d] %s %s: %d attached%s"):format(e.id, e.kind, e.name, #links,
      #chans > 0 and (", events from " .. table.concat(chans, ", ")) or "")
    for _, key in ipairs(links) do lines[#lines + 1] = "    " .. key end
  end
  if #lines == 0 then lines[1] = "nothing attached" end
  return table.concat(lines, "\n")
end

local function stop(e)
  if e.handle and e.handle.stop then pcall(e.handle.stop, e.handle) end
  if is_open(e) then e.b:cleanup() end
end

-- `.close N`: detach and close one object.
function M.close(id)
  for _, e in ipairs(M.live()) do
    if e.id == id then
      stop(e)
      M.live()
      return true
    end
  end
  return nil, ("no object [%s] (see .probes)"):format(tostring(id))
end

-- Close the objects a file's last run made; returns how many.
function M.close_source(source)
  local n = 0
  for _, e in ipairs(M.live()) do
    if e.source == source then stop(e); n = n + 1 end
  end
  M.live()
  return n
end

function M.close_all()
  for _, e in ipairs(M.live()) do pcall(stop, e) end
  entries = {}
end

-- Event buffers of live objects: their fds (watched at the prompt), the
-- tick at which to look at them (programs wake the reader only when
-- enough data waits), and a drain that runs their callbacks.
function M.event_fds()
  local fds, tick = {}, nil
  for _, e in ipairs(M.live()) do
    for _, c in pairs(channels(e)) do
      local ok, fd = pcall(c.chan.epoll_fd, c.chan)
      if ok then fds[#fds + 1] = fd end
      tick = math.min(tick or 100, math.max(c.latency or 100, 20))
    end
  end
  return fds, tick
end

-- Drain every live buffer; the first record printed clears the prompt's
-- line (on_output), and the editor redraws it after.
function M.drain_events(on_output)
  for _, e in ipairs(M.live()) do
    local list = channels(e)
    if next(list) then
      local saved = {}
      for name, c in pairs(list) do
        saved[name] = c.cb
        local cb = c.cb
        c.cb = function(...) on_output(); return cb(...) end
      end
      local ok, err = pcall(e.b._chans.drain, e.b._chans)
      for name, c in pairs(list) do c.cb = saved[name] or c.cb end
      if not ok then on_output(); io.stderr:write("luatrace: ", tostring(err), "\n") end
    end
  end
  io.stdout:flush()
end

return M

-- luatrace.usdt: BCC's USDT contexts. lt.USDT{pid=} or lt.USDT{path=},
-- u:enable_probe{probe="name" or "provider:name", fn_name="fn"}, then
-- BPF{text=..., usdt_contexts={u}}: the functions become USDT programs and
-- are attached after load; bpf_usdt_readarg(n, ctx, &v) reads arguments.
local core = require "luatrace.core"

local USDT = {}
USDT.__index = USDT

local function binaries(self)
  if self.path then return { self.path } end
  -- the executable and every file-backed mapping of the process
  local list, seen = {}, {}
  local exe = ("/proc/%d/exe"):format(self.pid)
  list[1] = exe
  local fh = io.open(("/proc/%d/maps"):format(self.pid))
  if fh then
    local text = fh:read("*a")
    fh:close()
    for path in text:gmatch("%s(/[^\n]+)\n") do
      if not seen[path] and not path:find(" (deleted)", 1, true) then
        seen[path] = true
        list[#list + 1] = ("/proc/%d/root%s"):format(self.pid, path)
      end
    end
  end
  return list
end

function USDT.new(opts)
  opts = opts or {}
  if not opts.pid and not opts.path then
    error("USDT: give pid= or path=", 2)
  end
  local self = setmetatable({ pid = opts.pid, path = opts.path, probes = {} }, USDT)
  if self.path and not self.path:find("/") then
    self.path = core.find_library(self.path, self.pid or -1)
      or error(("USDT: no such binary or library %s"):format(opts.path), 2)
  end
  if self.pid and not core.stat(("/proc/%d"):format(self.pid)) then
    error(("USDT: no such process %d"):format(self.pid), 2)
  end
  return self
end

-- Every probe of the binaries: { {path=, provider=, name=, args=} }.
function USDT:list()
  local out = {}
  for _, bin in ipairs(binaries(self)) do
    local ok, probes = pcall(core.usdt_probes, bin)
    if ok then
      for _, p in ipairs(probes) do
        out[#out + 1] = { path = bin, provider = p.provider, name = p.name, args = p.args }
      end
    end
  end
  return out
end

-- enable_probe{probe=, fn_name=}: probe is "name" or "provider:name".
function USDT:enable_probe(opts)
  local probe, fn = opts.probe, opts.fn_name
  if type(probe) ~= "string" or type(fn) ~= "string" then
    error("enable_probe: give probe= and fn_name= (strings)", 2)
  end
  local provider, name = probe:match("^([^:]+):(.+)$")
  name = name or probe
  for _, p in ipairs(self:list()) do
    if p.name == name and (not provider or p.provider == provider) then
      self.probes[#self.probes + 1] = { path = p.path, provider = p.provider, name = name, fn_name = fn }
      return
    end
  end
  error(("enable_probe %s: no such USDT probe in %s"):format(probe,
    self.path or ("process " .. self.pid)), 2)
end

-- Function names of the enabled probes (for the source rewrite).
function USDT:fn_names(set)
  for _, p in ipairs(self.probes) do set[p.fn_name] = true end
  return set
end

-- Attach every enabled probe of this context to a loaded object.
function USDT:attach(obj)
  local links = {}
  for _, p in ipairs(self.probes) do
    links[#links + 1] = core.attach_usdt(obj, p.fn_name, p.path, p.provider, p.name,
      { pid = self.pid or -1 })
  end
  return links
end

return setmetatable(USDT, { __call = function(_, opts) return USDT.new(opts) end })

-- luatrace.bpf.features: libbpf's kernel feature probes, answered from
-- the cache. libbpf 1.1 probes ~15 features in every process (~0.3 ms of
-- a warm one-liner's 4.5 ms start; host/libbpf_features.c). The answers
-- it found are kept in the compile cache (btf/features-KEY, KEY: the
-- kernel's build and this boot, since a boot may change what BPF may do,
-- e.g. lockdown) and given to libbpf before the process's first load; a
-- load that probed something new rewrites the file.
local core = require "luatrace.core"

local M = {}

local step -- nil: before the first load; "save": compare and save; "done"
local kept -- the answers the file held ({ [desc] = 1 | 2 })
local kept_bytes -- its size (the cache's running total counts the file)
local file -- its name, for this kernel and boot (M.file_name, once)

function M.file_name()
  local fh = io.open("/proc/sys/kernel/random/boot_id")
  local boot = fh and fh:read("*l") or ""
  if fh then fh:close() end
  return "features-" .. core.hash(require("luatrace.compile").kernel_id(), boot)
end

local function encode(t)
  local lines = {}
  for desc, v in pairs(t) do lines[#lines + 1] = desc .. "=" .. v end
  table.sort(lines)
  return table.concat(lines, "\n") .. "\n"
end

-- Before a load: the kept answers, once per process (a cache that cannot
-- be used leaves libbpf to probe, as without this).
function M.before_load()
  if step then return end
  step = "done"
  local ok, err = pcall(function()
    local dir = require("luatrace.cache").sub("btf")
    file = M.file_name()
    local text = dir:read(file)
    dir:close()
    kept_bytes = text and #text or 0
    kept = {}
    for desc, v in (text or ""):gmatch("([^\n]+)=([12])\n") do kept[desc] = tonumber(v) end
    core.libbpf_features_preset(kept)
    step = "save"
  end)
  if not ok and core.verbose() then io.stderr:write("luatrace: libbpf feature answers not used: ", tostring(err), "\n") end
end

-- After a load, and when an object closes (perf links are probed at the
-- first attach): keep what libbpf knows now, when it knows more.
function M.save()
  if step ~= "save" then return end
  local now = core.libbpf_features()
  local more = false
  for desc, v in pairs(now) do
    if kept[desc] ~= v then more = true end
  end
  if not more then return end
  for desc, v in pairs(kept) do
    if now[desc] == nil then now[desc] = v end
  end
  kept = now
  -- (a few hundred bytes once per boot: counted in the cache's total,
  -- never a reason to cut it)
  local ok = pcall(function()
    local cache = require "luatrace.cache"
    local text = encode(now)
    local dir = cache.sub("btf")
    local wrote, err = pcall(dir.write, dir, file, text)
    dir:close()
    if not wrote then error(err, 0) end
    cache.add_usage(#text - kept_bytes)
    kept_bytes = #text
  end)
  if not ok then step = "done" end
end

return M

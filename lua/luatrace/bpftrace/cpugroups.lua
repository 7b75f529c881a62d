-- luatrace.bpftrace.cpugroups: the text of a batch of records, kept per
-- CPU and written one CPU after another. A probe's time() and printf()
-- are two records in the one ring buffer, where another CPU's records can
-- come between them; bpftrace's per-CPU perf buffers keep them together,
-- and so does this (the CPU is in each record's id: codegen.lua).
local M = {}
local G = {}
G.__index = G

-- raw(s) writes text out.
function M.new(raw)
  return setmetatable({ raw = raw, groups = {}, cpus = {} }, G)
end

-- Keep s with the text of cpu's records.
function G:add(cpu, s)
  local g = self.groups[cpu]
  if not g then
    g = {}
    self.groups[cpu] = g
    self.cpus[#self.cpus + 1] = cpu
  end
  g[#g + 1] = s
end

-- Write what is kept, each CPU's text together, CPUs in the order of
-- their first record.
function G:flush()
  if #self.cpus == 0 then return end
  local parts = {}
  for _, cpu in ipairs(self.cpus) do
    for _, s in ipairs(self.groups[cpu]) do parts[#parts + 1] = s end
  end
  self.groups, self.cpus = {}, {}
  self.raw(table.concat(parts))
end

return M

-- The scheduler, irq and block tools (and offcputime) load raw_tp programs only, never
-- tp_btf: a tp_btf attach target makes libbpf 1.1 parse the whole kernel
-- BTF at load (16 MB against 5 MB peak RSS; docs/TOOLS.md, "raw_tp").
-- Their events and output are tested in tool_sched, tool_irqs, tool_block.
local tool = require "luatrace.tool"

local TOOLS = { "runqlat", "cpudist", "hardirqs", "softirqs", "offcputime", "biolatency", "biosnoop",
  "bitesize" }

for _, name in ipairs(TOOLS) do
  test(name .. ": every program in its object is raw_tp", function()
    local m = tool.load(name)
    local running = m.start(m.parse{})
    local kinds, n = {}, 0
    for _, p in ipairs(running.b:object():programs()) do
      n = n + 1
      if p.type ~= "raw_tracepoint" then kinds[#kinds + 1] = p.name .. " is " .. p.type end
    end
    running:stop()
    ok(n > 0, "programs listed")
    eq(table.concat(kinds, ", "), "")
  end)
end

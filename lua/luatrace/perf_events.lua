-- luatrace.perf_events: the software and hardware perf events a probe can
-- name (bpftrace's `software:NAME:PERIOD` / `hardware:NAME:PERIOD`), with
-- their short aliases, perf config numbers (linux/perf_event.h) and the
-- default sampling period bpftrace uses when none is given. One table for
-- the listing (`luatrace -l`) and the bpftrace front end.
local M = {}

M.TYPE_HARDWARE, M.TYPE_SOFTWARE = 0, 1

M.software = {
  { name = "alignment-faults", config = 7, period = 1 },
  { name = "bpf-output", config = 10, period = 1 },
  { name = "context-switches", alias = "cs", config = 3, period = 1000 },
  { name = "cpu-clock", alias = "cpu", config = 0, period = 1000000 },
  { name = "cpu-migrations", config = 4, period = 1 },
  { name = "dummy", config = 9, period = 1 },
  { name = "emulation-faults", config = 8, period = 1 },
  { name = "major-faults", config = 6, period = 1 },
  { name = "minor-faults", config = 5, period = 100 },
  { name = "page-faults", alias = "faults", config = 2, period = 100 },
  { name = "task-clock", config = 1, period = 1 },
}

M.hardware = {
  { name = "backend-stalls", config = 8, period = 1000000 },
  { name = "branch-instructions", alias = "branches", config = 4, period = 100000 },
  { name = "branch-misses", config = 5, period = 100000 },
  { name = "bus-cycles", config = 6, period = 100000 },
  { name = "cache-misses", config = 3, period = 1000000 },
  { name = "cache-references", config = 2, period = 1000000 },
  { name = "cpu-cycles", alias = "cycles", config = 0, period = 1000000 },
  { name = "frontend-stalls", config = 7, period = 1000000 },
  { name = "instructions", config = 1, period = 1000000 },
  { name = "ref-cycles", config = 9, period = 1000000 },
}

-- The event of a kind ("software"/"hardware") named by its name or alias.
function M.find(kind, name)
  for _, e in ipairs(M[kind] or {}) do
    if e.name == name or e.alias == name then return e end
  end
end

return M

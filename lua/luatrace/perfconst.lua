-- luatrace.perfconst: BCC's perf event constants (BPF.PerfType,
-- BPF.PerfHWConfig, BPF.PerfSWConfig), for attach_perf_event{ev_type=,
-- ev_config=}. Values are the kernel's UAPI (perf_type_id, perf_hw_id,
-- perf_sw_id in <linux/perf_event.h>), which never change. The BPF class
-- reads them from here on first use (lua/luatrace/bpf.lua).
local M = {}

M.PerfType = {
  HARDWARE = 0, SOFTWARE = 1, TRACEPOINT = 2, HW_CACHE = 3, RAW = 4,
  BREAKPOINT = 5,
}

M.PerfHWConfig = {
  CPU_CYCLES = 0, INSTRUCTIONS = 1, CACHE_REFERENCES = 2, CACHE_MISSES = 3,
  BRANCH_INSTRUCTIONS = 4, BRANCH_MISSES = 5, BUS_CYCLES = 6,
  STALLED_CYCLES_FRONTEND = 7, STALLED_CYCLES_BACKEND = 8, REF_CPU_CYCLES = 9,
}

M.PerfSWConfig = {
  CPU_CLOCK = 0, TASK_CLOCK = 1, PAGE_FAULTS = 2, CONTEXT_SWITCHES = 3,
  CPU_MIGRATIONS = 4, PAGE_FAULTS_MIN = 5, PAGE_FAULTS_MAJ = 6,
  ALIGNMENT_FAULTS = 7, EMULATION_FAULTS = 8, DUMMY = 9, BPF_OUTPUT = 10,
  CGROUP_SWITCHES = 11,
}

return M

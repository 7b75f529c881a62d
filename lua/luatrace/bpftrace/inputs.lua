-- luatrace.bpftrace.inputs: whether code generation read more than the
-- program text, its options and this kernel (BTF, tracepoint formats).
-- The places that read files, tracefs listings, kallsyms addresses or a
-- binary's symbols call volatile(why); such a program's generated code
-- is not kept by the plan cache (luatrace.bpftrace.plancache), since the
-- same text could generate other code tomorrow (a library updated, a
-- module loaded, a reboot's kernel addresses).
local M = {}

function M.reset() M.why = nil end

function M.volatile(why) M.why = M.why or why end

return M

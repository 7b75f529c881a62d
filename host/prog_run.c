/* prog_run.c: obj:run(prog) runs a loaded program once, now, on this CPU,
 * in this process (BPF_PROG_TEST_RUN with no input). bpftrace's BEGIN and
 * END are raw_tracepoint programs run this way: no uprobe to register
 * (each uprobe registration waits for an RCU grace period, 10-15 ms here),
 * no symbol of our own to find, and the program still sees this process
 * as current (pid, comm), as bpftrace's BEGIN_trigger uprobe does. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "obj.h"

/* obj:run(prog_name) -> the program's return value */
int lt_obj_run(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	int fd = bpf_program__fd(p);
	if (fd < 0)
		return lt_failf(L, "run %s: the program is not loaded",
				bpf_program__name(p));
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err = bpf_prog_test_run_opts(fd, &opts);
	if (err)
		return lt_fail(L, "run", bpf_program__name(p), err,
			       "BPF_PROG_TEST_RUN of a raw tracepoint program "
			       "needs Linux 5.10 or later");
	lua_pushinteger(L, opts.retval);
	return 1;
}

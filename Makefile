# luatrace build. `make` builds the binary and the AOT BPF objects;
# `make test` installs missing Debian packages, builds, and runs every test;
# `make demo` runs the default demo (syscall counts for 5 seconds).

CC       ?= gcc
CLANG    ?= clang
LLVM_STRIP ?= llvm-strip
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    := build
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -dumpmachine)

# libedit: the console's line editor (BSD; docs/ARCHITECTURE.md says why).
# Its headers only: host/lineedit_lib.c dlopens it when the console starts.
PKGS     := luajit libbpf libelf
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
            $(shell pkg-config --cflags $(PKGS) libedit 2>/dev/null) -Ihost -I$(BUILD)/gen
# LuaJIT, libbpf, libelf and zlib are linked statically (Debian's -dev
# packages ship the archives): the dynamic loader's work on them was
# ~0.4 ms of every start (docs/STARTUP.md, "Where a warm one-liner's
# start goes"). -rdynamic keeps lua_* exported for Lua C modules.
LDLIBS   := -Wl,-Bstatic -lluajit-5.1 $(BUILD)/libbpf.a -lelf -lz -Wl,-Bdynamic -lm -ldl
# libbpf 1.1 probes ~15 kernel features in every process (~0.3 ms of a
# warm start) and keeps the answers in its static table feature_probes:
# our copy of the archive makes that symbol global, so that
# host/libbpf_features.c can preset answers kept per kernel and boot
# (lua/luatrace/bpf/features.lua). Its size tells the entry count; none
# (another libbpf): nothing is preset.
LIBBPF_A    := $(shell pkg-config --variable=libdir libbpf)/libbpf.a
LIBBPF_FEAT := $(shell nm -S $(LIBBPF_A) 2>/dev/null | awk '$$4 == "feature_probes" { print $$2 }')
CFLAGS   += -DLT_LIBBPF_FEAT_BYTES=$(if $(LIBBPF_FEAT),0x$(LIBBPF_FEAT),0)
# Same flags for AOT objects and on-demand compiles: the binary carries
# this string (core.bpf_cflags) so both paths compile alike. DWARF 4:
# libbpf reads only the BTF that -g makes, and DWARF 5 makes clang MD5
# every header it read (vmlinux.h: 2.8 MB, ~5 ms of each cold compile).
BPF_CFLAGS := -O2 -g -gdwarf-4 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
              -idirafter /usr/include/$(MULTIARCH) -Wall -Wno-unused-function
CFLAGS   += -DLT_BPF_CFLAGS='"$(BPF_CFLAGS)"'

HOST_SRCS  := $(wildcard host/*.c)
HOST_OBJS  := $(HOST_SRCS:host/%.c=$(BUILD)/host/%.o) $(BUILD)/host/embedded.o
LUA_SRCS   := $(shell find lua -name '*.lua' | sort)
MOD_SRCS   := $(wildcard modules/*.lua)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(wildcard bpf/*.bpf.c))
TBPF_OBJS  := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))
TPROGS     := $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(wildcard tests/progs/*.c))
BENCH_OBJS := $(patsubst bench/bpf/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(wildcard bench/bpf/*.bpf.c))
BENCH_PROGS := $(patsubst bench/progs/%.c,$(BUILD)/bench/%,$(wildcard bench/progs/*.c))

.PHONY: all deps test test-vm unit demo bench install clean FORCE
# A failed step (a bcgen or clang killed halfway) leaves no partial target
# that a later make would take as built.
.DELETE_ON_ERROR:
all: $(BUILD)/luatrace $(BPF_OBJS) $(TBPF_OBJS) $(TPROGS)

deps:
	@tools/deps.sh

$(BUILD)/host/%.o: host/%.c host/*.h Makefile | $(BUILD)/gen
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/bcgen: tools/bcgen.c host/embed.h $(BUILD)/libbpf.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# The Lua library (and tool modules) as bytecode, plus lt_abi.h as text.
# lua/luatrace/x.lua -> luatrace.x ; lua/luatrace/init.lua -> luatrace ;
# modules/x.lua -> luatrace.modules.x
# The prelude headers of on-demand programs are embedded too.
$(BUILD)/gen/embedded.c: $(BUILD)/bcgen $(LUA_SRCS) $(MOD_SRCS) host/lt_abi.h bpf/luatrace.bpf.h bpf/lt_export.h | $(BUILD)/gen
	$(BUILD)/bcgen $@ --text lt_abi_text host/lt_abi.h \
	  --text lt_prelude_text bpf/luatrace.bpf.h --text lt_export_text bpf/lt_export.h \
	  $(foreach f,$(LUA_SRCS),--lua $(subst /,.,$(patsubst lua/%.lua,%,$(patsubst %/init.lua,%.lua,$(f)))) $(f)) \
	  $(foreach f,$(MOD_SRCS),--lua luatrace.modules.$(basename $(notdir $(f))) $(f))

$(BUILD)/host/embedded.o: $(BUILD)/gen/embedded.c host/embed.h
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen:
	@mkdir -p $@

$(BUILD)/libbpf.a: $(LIBBPF_A)
	@mkdir -p $(BUILD)
	objcopy $(if $(LIBBPF_FEAT),--globalize-symbol=feature_probes) $< $@

$(BUILD)/luatrace: $(HOST_OBJS) $(BUILD)/libbpf.a
	$(CC) $(CFLAGS) -rdynamic $(HOST_OBJS) -o $@ $(LDLIBS)

# vmlinux.h of the running kernel, written by luatrace itself (the same
# in-process generator on-demand compiles use). It is rebuilt when the
# kernel's BTF changes: kernel-btf.id holds its checksum and is rewritten
# only when that differs.
KERNEL_BTF_ID := $(shell cksum < /sys/kernel/btf/vmlinux 2>/dev/null)
$(BUILD)/kernel-btf.id: FORCE
	@mkdir -p $(@D)
	@echo '$(KERNEL_BTF_ID)' | cmp -s - $@ || echo '$(KERNEL_BTF_ID)' > $@

$(BUILD)/vmlinux.h: $(BUILD)/kernel-btf.id | $(BUILD)/luatrace
	$(BUILD)/luatrace -e 'require("luatrace.core").write_vmlinux_h(arg[1])' $@.tmp && mv $@.tmp $@

# One recipe for every BPF object (tool modules, tests, benchmarks); each
# source directory's own headers come with -I$(<D).
BPF_DEPS := $(BUILD)/vmlinux.h $(wildcard bpf/*.h)
define bpf_object
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -I$(BUILD) -Ibpf -I$(<D) -c $< -o $@
endef

# Tool objects lose their DWARF (libbpf reads BTF, never DWARF), as
# libbpf-tools' do: ~650 KB -> ~35 KB each, less to read, hash and parse
# at every start.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_DEPS)
	$(bpf_object)
	$(LLVM_STRIP) -g $@
$(BUILD)/tests/%.bpf.o: tests/bpf/%.bpf.c $(BPF_DEPS)
	$(bpf_object)
$(BUILD)/bench/%.bpf.o: bench/bpf/%.bpf.c $(BPF_DEPS) $(wildcard bench/bpf/*.h)
	$(bpf_object)

# The benchmark's own programs: the runner, generators, and the C floor
# (plain libbpf). Optimised, but the uprobe target stays a real call.
$(BUILD)/bench/%: bench/progs/%.c $(BENCH_OBJS) $(BUILD)/libbpf.a
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra $(BENCH_CFLAGS_$*) -o $@ $< $(LDLIBS)

# gen's uprobe target must start with push rbp, not endbr64 or lea: a first
# instruction the kernel cannot emulate is single-stepped (10x slower).
BENCH_CFLAGS_gen := -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fcf-protection=none

# Test targets: unoptimised enough to keep the probed functions whole.
$(BUILD)/tests/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -Wall -Wextra -fno-inline -o $@ $<

test: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/luatrace tests/run.lua

# The kernel matrix: stock Debian kernels in qemu (kprobes, fentry for real).
test-vm: deps
	@tools/deps.sh vm
	@$(MAKE) --no-print-directory all
	tests/vm/run.sh

# Benchmarks against bpftrace, BCC and plain libbpf (bench/README.md).
bench: deps
	@tools/deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_OBJS) $(BENCH_PROGS)
	$(BUILD)/luatrace bench/run.lua

unit: all
	$(BUILD)/luatrace tests/run.lua unit

demo: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/luatrace -m syscount -d 5

install: all
	install -D -m 0755 $(BUILD)/luatrace $(DESTDIR)$(PREFIX)/bin/luatrace
	install -d $(DESTDIR)$(PREFIX)/lib/luatrace/bpf
	install -m 0644 $(BPF_OBJS) $(DESTDIR)$(PREFIX)/lib/luatrace/bpf/

clean:
	rm -rf $(BUILD)

-- luatrace.kheaders: the kernel headers BCC programs include.
--
-- BCC compiles against the kernel's own headers; we compile against
-- vmlinux.h (in the prelude), which already declares every kernel type but
-- none of the kernel's #define constants, and which clashes with the
-- headers themselves. So an include of a kernel header (<linux/...>,
-- <uapi/...>, <net/...>, <asm/...>, <bcc/...>) is dropped from the text,
-- its line kept, and the constants BCC programs commonly take from it are
-- defined ahead of the text instead (values from the kernel sources; they
-- are ABI and do not change between kernels).
local M = {}

local KERNEL_DIRS = { "linux", "uapi", "net", "asm", "asm-generic", "bcc", "trace", "scsi" }

-- Groups of definitions, by what they are about.
local TASK = [[
#define TASK_COMM_LEN 16
#define TASK_RUNNING 0x00000000
#define TASK_INTERRUPTIBLE 0x00000001
#define TASK_UNINTERRUPTIBLE 0x00000002
#define __TASK_STOPPED 0x00000004
#define __TASK_TRACED 0x00000008
#define EXIT_DEAD 0x00000010
#define EXIT_ZOMBIE 0x00000020
#define EXIT_TRACE (EXIT_ZOMBIE | EXIT_DEAD)
#define TASK_PARKED 0x00000040
#define TASK_DEAD 0x00000080
#define TASK_WAKEKILL 0x00000100
#define TASK_WAKING 0x00000200
#define TASK_NOLOAD 0x00000400
#define TASK_NEW 0x00000800
#define TASK_KILLABLE (TASK_WAKEKILL | TASK_UNINTERRUPTIBLE)
#define TASK_STOPPED (TASK_WAKEKILL | __TASK_STOPPED)
#define TASK_TRACED __TASK_TRACED
#define TASK_IDLE (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_NORMAL (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)
#define TASK_REPORT 0x0000007f
#define PF_IDLE 0x00000002
#define PF_EXITING 0x00000004
#define PF_WQ_WORKER 0x00000020
#define PF_FORKNOEXEC 0x00000040
#define PF_KSWAPD 0x00020000
#define PF_KTHREAD 0x00200000
]]

local SOCKET = [[
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_LOCAL 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define PF_UNSPEC AF_UNSPEC
#define PF_UNIX AF_UNIX
#define PF_INET AF_INET
#define PF_INET6 AF_INET6
#define PF_NETLINK AF_NETLINK
#define PF_PACKET AF_PACKET
]]

local ETHER = [[
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_IPV6 0x86DD
]]

local FS = [[
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)
#define FMODE_READ ((fmode_t)0x1)
#define FMODE_WRITE ((fmode_t)0x2)
#define FMODE_EXEC ((fmode_t)0x20)
#define O_ACCMODE 00000003
#define O_RDONLY 00000000
#define O_WRONLY 00000001
#define O_RDWR 00000002
#define O_CREAT 00000100
#define O_EXCL 00000200
#define O_TRUNC 00001000
#define O_APPEND 00002000
#define O_NONBLOCK 00004000
#define O_DIRECTORY 00200000
#define O_CLOEXEC 02000000
]]

-- errno values: the installed UAPI header is macros only (no types).
local ERRNO = "#include <asm-generic/errno.h>\n"

-- LINUX_VERSION_CODE of the running kernel (what BCC's headers give).
local function version()
  local fh = io.open("/proc/sys/kernel/osrelease")
  local rel = fh and fh:read("*l") or ""
  if fh then fh:close() end
  local a, b, c = rel:match("^(%d+)%.(%d+)%.?(%d*)")
  a, b, c = tonumber(a) or 0, tonumber(b) or 0, math.min(tonumber(c) or 0, 255)
  return ("#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))\n"
    .. "#define LINUX_VERSION_CODE %d\n"):format(a * 65536 + b * 256 + c)
end

-- Which group a header brings (a header may bring none: types only).
local GROUPS = {
  ["linux/sched.h"] = { TASK }, ["linux/sched/signal.h"] = { TASK },
  ["linux/socket.h"] = { SOCKET }, ["net/sock.h"] = { SOCKET, ERRNO },
  ["linux/net.h"] = { SOCKET }, ["linux/in.h"] = { SOCKET }, ["linux/in6.h"] = { SOCKET },
  ["uapi/linux/in.h"] = { SOCKET }, ["uapi/linux/in6.h"] = { SOCKET },
  ["net/inet_sock.h"] = { SOCKET }, ["net/tcp.h"] = { SOCKET }, ["linux/tcp.h"] = { SOCKET },
  ["net/net_namespace.h"] = { SOCKET }, ["linux/skbuff.h"] = { SOCKET, ETHER },
  ["linux/if_ether.h"] = { ETHER }, ["uapi/linux/if_ether.h"] = { ETHER },
  ["bcc/proto.h"] = { ETHER }, ["linux/netdevice.h"] = { ETHER },
  ["linux/fs.h"] = { FS }, ["linux/stat.h"] = { FS }, ["uapi/linux/stat.h"] = { FS },
  ["linux/fcntl.h"] = { FS }, ["uapi/linux/fcntl.h"] = { FS }, ["linux/dcache.h"] = { FS },
  ["linux/errno.h"] = { ERRNO }, ["uapi/linux/errno.h"] = { ERRNO },
  ["asm-generic/errno.h"] = { ERRNO }, ["linux/err.h"] = { ERRNO },
  ["linux/version.h"] = { version },
}

local function is_kernel(header)
  local dir = header:match("^([%w_%-]+)/")
  if not dir then return false end
  for _, d in ipairs(KERNEL_DIRS) do
    if d == dir then return true end
  end
  return false
end

-- The #define text a kernel header brings (its groups above), or nil
-- when it brings none (also used by the bpftrace front end's #include).
function M.defines(header)
  local out = {}
  for _, g in ipairs(GROUPS[header] or {}) do
    out[#out + 1] = type(g) == "function" and g() or g
  end
  return #out > 0 and table.concat(out) or nil
end

-- Drop the kernel includes of text. Returns the new text (same lines) and
-- the definitions to put ahead of it (one string, maybe empty).
function M.rewrite(text)
  local seen, defs = {}, {}
  local function use(group)
    if seen[group] then return end
    seen[group] = true
    defs[#defs + 1] = type(group) == "function" and group() or group
  end
  local out = {}
  for line, nl in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)(\n)") do
    local header, rest = line:match("^%s*#%s*include%s*<([^>]+)>(.*)$")
    -- the rest of the line: nothing, or a comment that ends there
    local plain = rest and (rest:match("^%s*$") or rest:match("^%s*//")
      or (rest:match("^%s*/%*.*%*/%s*$") and not rest:match("%*/.*/%*")))
    if header and plain and is_kernel(header) then
      for _, g in ipairs(GROUPS[header] or {}) do use(g) end
      -- a line comment: harmless also inside a block comment
      line = ("// #include <%s>: types from vmlinux.h"):format(header)
    end
    out[#out + 1] = line .. nl
  end
  local s = table.concat(out)
  if text:sub(-1) ~= "\n" then s = s:sub(1, -2) end
  return s, table.concat(defs)
end

return M

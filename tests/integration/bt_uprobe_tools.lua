-- uprobes on symbols a binary lacks (skipped with a warning, as bpftrace
-- skips them; none left is an error), glibc's stub libraries (libpthread
-- -> libc), symbols defined once per version, and the .bt tools this
-- unblocks: sslsnoop and ssllatency over an openssl s_server/s_client
-- pair on loopback, threadsnoop with a Python thread.
local core = require "luatrace.core"
local LT = luatrace()

local function run(args)
  return sh(("env -u LUATRACE_PATH %s %s"):format(q(LT), args))
end

local function grep(text, pat)
  local t = {}
  for line in text:gmatch("[^\n]*") do
    if line:find(pat) then t[#t + 1] = line end
  end
  return t
end

test("a uprobe on a missing symbol: a warning, the other probes run", function()
  local out, err, code = run([[-e 'uprobe:libc:lt_no_such_fn, uprobe:libc:getppid { @ = count(); } BEGIN { printf("go\n"); }' -c 'sh -c "echo x > /dev/null"']])
  eq(code, 0, err)
  local libc = core.find_library("c")
  eq(err, ("WARNING: uprobe:%s:lt_no_such_fn: no symbol lt_no_such_fn in %s; probe skipped\n"):format(libc, libc))
  ok(out:find("^Attaching 2 probes%.%.%.\ngo\n"), out)
end)

test("every probe skipped: one error line, exit 1", function()
  local out, err, code = run([[-e 'uprobe:libc:lt_no_such_fn { @ = count(); }']])
  eq(code, 1)
  eq(out, "")
  local libc = core.find_library("c")
  eq(err, ("WARNING: uprobe:%s:lt_no_such_fn: no symbol lt_no_such_fn in %s; probe skipped\n"):format(libc, libc)
    .. "luatrace: bpftrace program stdin: no probes to attach (every probe was skipped)\n")
  -- a missing library stays an error, as in bpftrace
  out, err, code = run([[-e 'uprobe:lt_no_such_lib:foo { @ = count(); }']])
  eq(code, 1)
  ok(err:find("library lt_no_such_lib not found", 1, true), err)
end)

test("uprobe:libpthread:pthread_create is libc's (glibc 2.34 stubs), attached at its offset", function()
  local c = require("luatrace.bpftrace").compile("uprobe:libpthread:pthread_create { @ = count(); }")
  local libc = core.find_library("c")
  eq(c.probes[1].path, libc)
  local _, _, off, count = core.elf_symbol(libc, "pthread_create")
  if count > 1 then eq(c.probes[1].addr, off, "two versions: by offset") end
end)

test("threadsnoop.bt: a Python thread's start routine", function()
  local py = unique_path("thread") .. ".py"
  local fh = io.open(py, "w")
  fh:write("import threading\nt = threading.Thread(target=lambda: None)\nt.start()\nt.join()\n")
  fh:close()
  local out, err, code = run("-c " .. q("python3 " .. py) .. " /usr/sbin/threadsnoop.bt")
  os.remove(py)
  eq(code, 0, err)
  ok(out:find("^Attaching 2 probes%.%.%.\nTIME%(ms%)   PID    COMM             FUNC\n"), out)
  eq(#grep(out, "^%d+%s+%d+%s+python3%s+pythread_wrapper$"), 1, out)
end)

-- An openssl server and client over loopback: the client sends "hello\n".
local function ssl_workload()
  local dir = unique_path("ssl")
  os.execute("mkdir -p " .. q(dir))
  local _, err, code = sh(("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=lt"):format(q(dir)))
  if code ~= 0 then skip("openssl cannot make a certificate: " .. err) end
  local port = 20000 + core.getpid() % 20000
  local script = dir .. "/w.sh"
  local fh = io.open(script, "w")
  fh:write(([[cd %s
openssl s_server -accept 127.0.0.1:%d -cert c.pem -key k.pem -naccept 1 -quiet > srv.out 2>&1 &
sleep 0.3
(echo hello; sleep 0.3) | openssl s_client -connect 127.0.0.1:%d -quiet > cli.out 2>&1
wait
]]):format(q(dir), port, port))
  fh:close()
  return "sh " .. script, dir
end

test("sslsnoop.bt: the client's SSL_write and SSL_read, missing libcrypto probes skipped", function()
  if not core.stat("/usr/bin/openssl") then skip("openssl is not installed (tools/deps.sh)") end
  local cmd, dir = ssl_workload()
  local out, err, code = run("-c " .. q(cmd) .. " /usr/sbin/sslsnoop.bt")
  os.execute("rm -rf " .. q(dir))
  eq(code, 0, err)
  ok(out:find("^Attaching %d+ probes%.%.%.\nTracing SSL/TLS handshake%.%.%. Hit Ctrl%-C to end%.\nTIME%(us%)   TID      COMM     LAT%(us%)   RET FUNC\n"), out)
  -- the first SSL_write carries the handshake (bpftrace shows the same
  -- RET 0 line); the 6-byte one follows unless it was folded into it
  local writes = grep(out, "^%d+%s+%d+%s+openssl%s+%d+%s+[06] SSL_write$")
  ok(#writes >= 1, out)
  ok(#grep(out, "^%d+%s+%d+%s+openssl%s+%d+%s+%-?%d+ SSL_read$") >= 1, out)
  ok(not err:find("SSL_write", 1, true), "SSL_write exists: " .. err)
end)

test("ssllatency.bt: histograms and stats per SSL function", function()
  if not core.stat("/usr/bin/openssl") then skip("openssl is not installed (tools/deps.sh)") end
  local cmd, dir = ssl_workload()
  local out, err, code = run("-c " .. q(cmd) .. " /usr/sbin/ssllatency.bt")
  os.execute("rm -rf " .. q(dir))
  eq(code, 0, err)
  ok(out:find("\nLatency distribution in microsecond:\n", 1, true), out)
  ok(out:find("\n@histF%[SSL_write%]: \n%[", 1), out)
  ok(out:find("\n@statF%[SSL_write%]: count %d+, average %d+, total %d+\n"), out)
  ok(out:find("\n@statF%[SSL_read%]: count %d+, average %d+, total %d+\n"), out)
end)

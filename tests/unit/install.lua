-- make install puts a self-contained binary and the AOT objects under
-- DESTDIR/PREFIX; the installed binary runs without the source tree.
test("make install DESTDIR=... PREFIX=/usr", function()
  local dest = os.tmpname(); os.remove(dest)
  local _, err, code = sh(("make -s -C %s install DESTDIR=%s PREFIX=/usr"):format(q(root), q(dest)))
  eq(code, 0, "make install: " .. err)
  local out, _, code2 = sh(("cd / && env -u LUATRACE_PATH %s/usr/bin/luatrace -e %s")
    :format(q(dest), q("print(require('luatrace').version)")))
  eq(code2, 0, "installed binary runs")
  eq(out, require("luatrace.core").version .. "\n")
  local found = sh(("cd / && %s/usr/bin/luatrace -e %s"):format(q(dest),
    q("print(require('luatrace.objects').find('syscount'))")))
  eq(found, dest .. "/usr/bin/../lib/luatrace/bpf/syscount.bpf.o\n", "AOT object found")
  os.execute("rm -rf " .. q(dest))
end)

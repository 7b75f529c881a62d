-- extract_vmlinux.lua VMLINUZ OUT: the uncompressed ELF vmlinux inside a
-- bzImage (as the kernel's scripts/extract-vmlinux does): find a
-- compression magic, decompress from there, keep the first result that is
-- an ELF file. qemu boots the ELF directly (PVH), and its notes carry the
-- build id that names the kernel in the compile cache.
local core = require "luatrace.core"

local src, out = arg[1], arg[2]
local fh = assert(io.open(src, "rb"))
local img = fh:read("*a")
fh:close()

local methods = {
  { magic = "\40\181\47\253", cmd = { "zstd", "-d", "-q", "-c" } },   -- zstd
  { magic = "\253\55\122\88\90\0", cmd = { "xz", "-d", "-q", "-c" } }, -- xz
  { magic = "\31\139\8", cmd = { "gzip", "-d", "-q", "-c" } },         -- gzip
}

for _, m in ipairs(methods) do
  local pos = 1
  while true do
    local at = img:find(m.magic, pos, true)
    if not at then break end
    local tmp = out .. ".part"
    local w = assert(io.open(tmp, "wb"))
    w:write(img:sub(at))
    w:close()
    -- trailing bytes after the stream make the tools complain; the output
    -- is complete anyway, so judge by the result
    os.execute(("%s %s > %s 2>/dev/null"):format(table.concat(m.cmd, " "), tmp, out))
    os.remove(tmp)
    local r = io.open(out, "rb")
    local head = r and r:read(4)
    if r then r:close() end
    if head == "\127ELF" then
      local st = core.stat(out)
      print(("%s: %s stream at offset %d, vmlinux %d bytes"):format(src, m.cmd[1], at - 1, st.size))
      os.exit(0)
    end
    pos = at + 1
  end
end
io.stderr:write("extract_vmlinux: no compressed ELF kernel found in " .. src .. "\n")
os.exit(1)

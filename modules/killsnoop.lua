-- killsnoop: trace signals sent by kill(2), tkill(2) and tgkill(2), with
-- their results: sigsnoop with -k always on (as libbpf-tools' killsnoop,
-- a name for sigsnoop). Same columns, records and options (less -k).
local toolkit = require "luatrace.toolkit"
local sigsnoop = require("luatrace.tool").load("sigsnoop")

local def = {}
for k, v in pairs(sigsnoop.def) do def[k] = v end
def.name = "killsnoop"
def.description = "Trace signals sent by kill() syscalls, with their results"
def.options = {}
for _, o in ipairs(sigsnoop.def.options) do
  if o[1] ~= "-k" then def.options[#def.options + 1] = o end
end
def.start = function(opts, emit)
  opts.kill = true
  return sigsnoop.def.start(opts, emit)
end
return toolkit.define(def)

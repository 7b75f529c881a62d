-- luatrace.listing_cli: -l and -lv on the command line. The listing
-- itself (luatrace.listing) loads only when they are given, not in
-- every run that parses options.
local M = {}

function M.register(cli)
  table.insert(cli.options, 2, { "-l", key = "list",
    help = "list probes matching the glob in the next word (all without it)" })
  table.insert(cli.options, 3, { "-lv", key = "list_verbose",
    help = "list probes with their arguments, or a struct's definition" })
  local function mode(o, argv, i)
    require("luatrace.core").gc_normal()
    if argv[i + 1] then return cli.usage_error("-l takes one pattern") end
    return require("luatrace.listing").main(argv[i], o.list_verbose or o.verbose)
  end
  cli.modes.list, cli.modes.list_verbose = mode, mode
  table.insert(cli.mode_order, 1, "list")
  table.insert(cli.mode_order, 2, "list_verbose")
end

return M

-- expect: luatrace: require_missing.lua:4: module 'no_such_module_xyz' not found (not on package.path or package.cpath; -v lists where it looked)
-- exit: 1
-- one line, and ./no_such_module_xyz.lua (the working directory) is never tried
require "no_such_module_xyz"

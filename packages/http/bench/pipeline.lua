-- wrk script: sends `depth` requests per write (HTTP pipelining).
-- usage: wrk -s pipeline.lua http://host:port/plaintext -- 16 [header lines...]
init = function(args)
  local depth = tonumber(args[1]) or 1
  local headers = {}
  for i = 2, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  local r = {}
  for i = 1, depth do r[i] = wrk.format(nil, nil, headers) end
  req = table.concat(r)
end

request = function()
  return req
end

-- tokens.lua: the token records of one tenant, or of all, in one atomic
-- step.
--
-- KEYS[1]  the token order sorted set
-- ARGV[1]  the registry's key base   ARGV[2]  the tenant id ('' = all)
--
-- Returns a list of {insertion number, record, last use or nil, revoked or
-- nil}, one per token.
local base, tenant = ARGV[1], ARGV[2]
local ids
if tenant == '' then
  ids = redis.call('ZRANGE', KEYS[1], 0, -1)
else
  ids = redis.call('SMEMBERS', base .. 'tenant-tokens:' .. tenant)
end
local out = {}
for _, t in ipairs(ids) do
  local h = redis.call('HMGET', base .. 'token:' .. t, 'n', 'rec', 'last_used', 'revoked')
  if h[2] then out[#out + 1] = h end
end
return out

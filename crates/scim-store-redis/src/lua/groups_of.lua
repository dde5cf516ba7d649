-- groups_of.lua: every group a resource belongs to, directly or through
-- nested groups (a walk up the member->groups sets), with each group's
-- document for its display name, in one atomic step.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  the member id
--
-- Returns a flat list of (group id, 1 if direct else 0, document) triples;
-- empty for an unknown id or tenant.
local base, member = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local direct = {}
for _, g in ipairs(redis.call('SMEMBERS', base .. 'memberof:' .. member)) do direct[g] = true end
local out = {}
for g in pairs(ancestors(base, member)) do
  out[#out + 1] = g
  out[#out + 1] = direct[g] and 1 or 0
  out[#out + 1] = redis.call('HGET', base .. 'group:' .. g, 'doc') or ''
end
return out

-- members.lua: one page of a group's members in member id order, read from
-- the group's sorted set (score 0, so ZRANGE BYLEX pages by id) in
-- O(log n + page), whatever the group size.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  the group id
-- ARGV[3]  the id to start after ('' = from the first)
-- ARGV[4]  the page size (at least 1)
--
-- Returns {'ok', more (1 when members follow the page), id, kind, ...} or
-- {'notfound'} when the group (or the tenant) does not exist.
local base, group, after = ARGV[1], ARGV[2], ARGV[3]
local limit = tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
if redis.call('EXISTS', base .. 'group:' .. group) == 0 then return {'notfound'} end
local from = '-'
if after ~= '' then from = '(' .. after end
-- One more than asked tells whether another page follows.
local ids = redis.call('ZRANGE', base .. 'members:' .. group, from, '+', 'BYLEX', 'LIMIT', 0, limit + 1)
local out = {'ok', 0}
if #ids > limit then out[2] = 1 end
for i = 1, math.min(#ids, limit) do
  out[#out + 1] = ids[i]
  out[#out + 1] = kind_of(base, ids[i]) or 'User'
end
return out

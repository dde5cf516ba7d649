-- page.lua: one page of a kind's listing in id order (the order of its
-- sorted set: every score is 0, so members sort by id bytes), with the
-- total and the resources on the page, in one atomic step.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  '1' to read groups' members, else '0'
-- ARGV[4]  'asc' | 'desc'
-- ARGV[5]  'rank': ARGV[6], ARGV[7] are the first and last 0-based ranks;
--          'after': ARGV[6] is an id to start after (keyset paging) and
--          ARGV[7] the page size
--
-- Returns {total, JSON array text of the page's entries (see fetch_json)};
-- {0, '[]'} when the tenant does not exist.
local base, kind, with_members = ARGV[1], ARGV[2], ARGV[3] == '1'
local desc, mode = ARGV[4] == 'desc', ARGV[5]
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, '[]'} end
local list = base .. kind .. 's'
local total = redis.call('ZCARD', list)
local ids
if mode == 'rank' then
  if desc then
    ids = redis.call('ZRANGE', list, ARGV[6], ARGV[7], 'REV')
  else
    ids = redis.call('ZRANGE', list, ARGV[6], ARGV[7])
  end
elseif desc then
  ids = redis.call('ZRANGE', list, '(' .. ARGV[6], '-', 'BYLEX', 'REV', 'LIMIT', 0, ARGV[7])
else
  ids = redis.call('ZRANGE', list, '(' .. ARGV[6], '+', 'BYLEX', 'LIMIT', 0, ARGV[7])
end
return {total, fetch_all(base, kind, ids, 1, with_members)}

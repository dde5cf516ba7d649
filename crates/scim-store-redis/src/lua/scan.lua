-- scan.lua: every id of a kind, for the filters and sorts no index answers,
-- unless there are more than the scan limit: then only the count, so an
-- over-limit query costs O(1) and not a transfer of every id.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  the scan limit
--
-- Returns {count, ids}: the ids in id order joined by newlines (they are
-- the store's own UUIDs), one bulk string instead of a reply element per
-- id; or {count} alone when count is over the limit; {0, ''} when the
-- tenant does not exist.
local base, kind, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
local list = base .. kind .. 's'
local n = redis.call('ZCARD', list)
if n > limit then return {n} end
return {n, table.concat(redis.call('ZRANGE', list, 0, -1), '\n')}

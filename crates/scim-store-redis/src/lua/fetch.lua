-- fetch.lua: reads resources of one kind by id, in one atomic step, so each
-- batch is a consistent snapshot (a document with its version and members).
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  '1' to read a group's members, else '0'
-- ARGV[4..] ids
--
-- Returns a JSON array text with one entry per id (see fetch_json), null
-- for an id that does not exist; '[]' when the tenant does not (a deleted
-- tenant whose keys are still being purged shows nothing).
local base, kind, with_members = ARGV[1], ARGV[2], ARGV[3] == '1'
if redis.call('EXISTS', KEYS[1]) == 0 then return '[]' end
return fetch_all(base, kind, ARGV, 4, with_members)

-- token_mark.lua: revokes a token (idempotent: the first revocation time
-- stays) or records its last use, only if the token exists, so a mark never
-- creates a stray half-record.
--
-- KEYS[1]  the token's key
-- ARGV[1]  'revoke' | 'touch'        ARGV[2]  the time (RFC 3339)
--
-- Returns {'ok'} or {'notfound'}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
if ARGV[1] == 'revoke' then
  redis.call('HSETNX', KEYS[1], 'revoked', ARGV[2])
else
  redis.call('HSET', KEYS[1], 'last_used', ARGV[2])
end
return {'ok'}

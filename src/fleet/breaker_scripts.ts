import { LuaScript } from './lua_script.js';

/**
 * Writes a tenant's breaker state if nobody wrote it since it was read: a compare-and-set
 * on the version kept beside the state. The transition itself is the pure function of
 * breaker_state.ts, run in the worker; this script is what makes its result land
 * atomically across the fleet (a lost race reads again and re-runs the transition).
 * KEYS: the tenant's breaker hash, the tenants set. ARGV: version read ('0' if none), new
 * state JSON, tenant. Returns 1 when written, 0 when another writer came first.
 */
export const COMPARE_AND_SET = new LuaScript(`
local current = redis.call('HGET', KEYS[1], 'v') or '0'
if current ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(current) + 1), 's', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`);

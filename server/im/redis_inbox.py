"""Lua scripts of the Redis offline C2C inbox (the rules of :mod:`server.im.inbox`).

Keys: ``KEYS[1]`` the recipient's list ``P im:in:U``; ``KEYS[2]`` the sorted set ``P im:inq``
(recipient -> last write, ms); ``KEYS[3]`` the hash ``P im:inb`` (recipient -> bytes held);
``KEYS[4]`` ``P im:intotal`` (bytes held by all inboxes); ``KEYS[5]`` ``P im:indropped`` (messages
dropped so far). Other recipients' lists are named from ``ARGV`` prefix inside the script: fine on
one Redis, not on Redis Cluster. A list also carries a key TTL of ``ttl`` seconds, so an inbox
nobody writes to again is freed by Redis itself; its bookkeeping goes at the next write.
"""

from __future__ import annotations

_COMMON = """
local dropped = 0
local pfx = ARGV[1]
local function forget(u)
  local b = tonumber(redis.call('HGET', KEYS[3], u) or '0')
  dropped = dropped + redis.call('LLEN', pfx .. u)
  redis.call('DEL', pfx .. u)
  redis.call('HDEL', KEYS[3], u)
  redis.call('ZREM', KEYS[2], u)
  if b > 0 then redis.call('DECRBY', KEYS[4], b) end
end
local function pop_oldest(u)
  local f = redis.call('LPOP', pfx .. u)
  if not f then forget(u) return end
  redis.call('HINCRBY', KEYS[3], u, -#f)
  redis.call('DECRBY', KEYS[4], #f)
  dropped = dropped + 1
  if redis.call('LLEN', pfx .. u) == 0 then forget(u) end
end
"""

# ARGV: prefix, uid, frame, now_ms, ttl_s, per_user, max_users, max_bytes -> messages dropped
PUSH = _COMMON + """
local uid, frame = ARGV[2], ARGV[3]
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local per_user, max_users, max_bytes = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
for _, u in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl * 1000, 'LIMIT', 0, 100)) do
  forget(u)
end
local len = redis.call('RPUSH', KEYS[1], frame)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('HINCRBY', KEYS[3], uid, #frame)
redis.call('INCRBY', KEYS[4], #frame)
-- the order of writes must be strict: two writes in one ms would otherwise tie and ZRANGE would
-- order them by name, so a cap could evict the inbox just written instead of the oldest one
local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local score = now
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 0.001 end
redis.call('ZADD', KEYS[2], score, uid)
while len > per_user do pop_oldest(uid); len = len - 1 end
while redis.call('ZCARD', KEYS[2]) > max_users do
  forget(redis.call('ZRANGE', KEYS[2], 0, 0)[1])
end
while tonumber(redis.call('GET', KEYS[4]) or '0') > max_bytes do
  local u = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not u then redis.call('SET', KEYS[4], 0) break end
  pop_oldest(u)
end
if dropped > 0 then redis.call('INCRBY', KEYS[5], dropped) end
return dropped
"""

# ARGV: prefix, uid -> the recipient's frames, oldest first (the inbox is emptied)
TAKE = _COMMON + """
local frames = redis.call('LRANGE', KEYS[1], 0, -1)
forget(ARGV[2])
return frames
"""

"""The seen-set: a scalable Bloom filter in plain Redis 7 (GETBIT/SETBIT in Lua).

scrapy-redis keeps a SET of 40-character SHA1 hex fingerprints, roughly 90
bytes a URL. A Bloom filter answers "seen before?" in a fixed number of bits a
URL (-ln p / ln²2: 30 bits, under 4 bytes, at p = 1e-6) at the price of a
false-positive rate p: a URL wrongly believed seen is not crawled.

Scalable (Almeida et al., 2007): layer i holds capacity·growth^i URLs at error
rate p0·tightening^i; when the newest layer is full a larger one is added, so
the overall rate stays below p0 / (1 - tightening) however far the crawl
outgrows its planned size. We set p0 = p·(1 - tightening) so that bound is p.

Layer i is stored in chunks ``<prefix>:<i>:<c>`` of just under 1 MiB, each
created at its final size when the layer is added: a string that SETBIT grows
gets up to 1 MB of slack from Redis' greedy preallocation, and the allocator
rounds large blocks up, so at 1e-6 the set would cost 5.2 bytes a URL instead of
3.8. (Chunks also keep every key far below Redis' 512 MB string limit.) The
parameters are in ``<prefix>:meta`` (a HASH, written once: a running crawl keeps
the sizes it started with).

Positions come from double hashing, g_j(x) = h1 + j·h2 mod m, with h1 and h2 two
46-bit parts of a BLAKE2b digest of the canonical URL; computed inside Lua,
whose numbers (doubles) hold h1 + j·h2 exactly (below 2^53 for j < 64).
"""

from __future__ import annotations

import math
from hashlib import blake2b
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

LN2_SQUARED = math.log(2) ** 2


def layer_size(capacity: float, error_rate: float) -> tuple[int, int]:
    """(bits, hash functions) of a Bloom filter for `capacity` items at `error_rate`."""
    bits = math.ceil(-capacity * math.log(error_rate) / LN2_SQUARED)
    hashes = math.ceil(-math.log(error_rate) / math.log(2))
    return bits, hashes


HASH_BITS = 46
# 1 MiB less room for Redis' string header, so a chunk is one 1 MiB allocation.
CHUNK_BYTES = 2**20 - 64
CHUNK_BITS = CHUNK_BYTES * 8


def url_hashes(url: str) -> tuple[int, int]:
    """Two independent 46-bit hashes of a URL; h2 is odd so strides never collapse."""
    digest = int.from_bytes(blake2b(url.encode(), digest_size=12).digest(), "big")
    mask = (1 << HASH_BITS) - 1
    return digest & mask, ((digest >> HASH_BITS) & mask) | 1


def chunk_keys(prefix: str, layer: int, bits: int) -> list[str]:
    """The Redis keys holding one layer."""
    return [f"{prefix}:{layer}:{c}" for c in range((bits + CHUNK_BITS - 1) // CHUNK_BITS)]


def chunk_sizes(bits: int) -> list[int]:
    """Bytes of each chunk of a layer of `bits` bits."""
    total = (bits + 7) // 8
    return [min(CHUNK_BYTES, total - start) for start in range(0, total, CHUNK_BYTES)]


# Lua, shared by the queue scripts (queue.py): returns 1 if the URL was new (and
# is now recorded), 0 if it was (probably) seen before.
BLOOM_LUA = """
local function bloom_layer(cap0, err0, growth, tightening, i)
  local n = cap0 * growth ^ i
  local p = err0 * tightening ^ i
  local bits = math.ceil(-n * math.log(p) / (math.log(2) ^ 2))
  local k = math.ceil(-math.log(p) / math.log(2))
  return n, bits, k
end

local CHUNK = 8388096

local function bloom_bit(key, offset)
  local chunk = math.floor(offset / CHUNK)
  return key .. ':' .. chunk, offset - chunk * CHUNK
end

-- a layer's chunks, zeroed, at their final size (see the module docstring)
local function bloom_create(prefix, layer, bits)
  local total = math.ceil(bits / 8)
  local chunk_bytes = CHUNK / 8
  local c = 0
  while c * chunk_bytes < total do
    local size = math.min(chunk_bytes, total - c * chunk_bytes)
    redis.call('SET', prefix .. ':' .. layer .. ':' .. c, string.rep('\0', size), 'NX')
    c = c + 1
  end
end

local function bloom_add(prefix, h1, h2)
  local meta = prefix .. ':meta'
  local m = redis.call('HMGET', meta, 'capacity', 'error', 'growth', 'tightening', 'layers')
  local cap0, err0 = tonumber(m[1]), tonumber(m[2])
  local growth, tightening = tonumber(m[3]), tonumber(m[4])
  local layers = tonumber(m[5])
  for i = 0, layers - 1 do
    local _, bits, k = bloom_layer(cap0, err0, growth, tightening, i)
    local key = prefix .. ':' .. i
    local all = true
    for j = 0, k - 1 do
      local k2, off = bloom_bit(key, (h1 + j * h2) % bits)
      if redis.call('GETBIT', k2, off) == 0 then
        all = false
        break
      end
    end
    if all then return 0 end
  end
  local last = layers - 1
  local n = bloom_layer(cap0, err0, growth, tightening, last)
  if tonumber(redis.call('HGET', meta, 'n:' .. last) or '0') >= n then
    last = layers
    redis.call('HSET', meta, 'layers', layers + 1)
    local _, new_bits = bloom_layer(cap0, err0, growth, tightening, last)
    bloom_create(prefix, last, new_bits)
  end
  local _, bits, k = bloom_layer(cap0, err0, growth, tightening, last)
  local key = prefix .. ':' .. last
  for j = 0, k - 1 do
    local k2, off = bloom_bit(key, (h1 + j * h2) % bits)
    redis.call('SETBIT', k2, off, 1)
  end
  redis.call('HINCRBY', meta, 'n:' .. last, 1)
  redis.call('HINCRBY', meta, 'count', 1)
  return 1
end
"""

ADD_MANY_LUA = (
    BLOOM_LUA
    + """
local out = {}
for i = 2, #ARGV, 2 do
  out[#out + 1] = bloom_add(ARGV[1], tonumber(ARGV[i]), tonumber(ARGV[i + 1]))
end
return out
"""
)


class ScalableBloomFilter:
    """A Bloom filter in Redis under `prefix`; safe to share between processes."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        capacity: int = 1_000_000,
        error_rate: float = 1e-6,
        growth: int = 2,
        tightening: float = 0.5,
    ) -> None:
        if capacity < 1 or not 0 < error_rate < 1:
            raise ValueError("Bloom filter needs capacity >= 1 and 0 < error_rate < 1")
        self.client = client
        self.prefix = prefix
        self.meta_key = f"{prefix}:meta"
        self.params = {
            "capacity": capacity,
            "error": error_rate * (1 - tightening),
            "growth": growth,
            "tightening": tightening,
            "layers": 1,
        }
        self._add_many = client.register_script(ADD_MANY_LUA)
        self.ensure_meta()

    def ensure_meta(self) -> None:
        """Write the sizes and create the first layer, once; a filter already in
        Redis keeps its own."""
        with self.client.pipeline() as pipe:
            for field, value in self.params.items():
                pipe.hsetnx(self.meta_key, field, repr(value))
            pipe.execute()
        if int(self.client.hget(self.meta_key, "layers") or 1) == 1:
            capacity = float(self.client.hget(self.meta_key, "capacity"))
            error = float(self.client.hget(self.meta_key, "error"))
            bits, _ = layer_size(capacity, error)
            keys = chunk_keys(self.prefix, 0, bits)
            with self.client.pipeline() as pipe:
                for key, size in zip(keys, chunk_sizes(bits), strict=True):
                    pipe.set(key, b"\0" * size, nx=True)
                pipe.execute()

    def add(self, url: str) -> bool:
        """Record `url`; True if it was not seen before."""
        return self.add_many([url])[0]

    def add_many(self, urls: list[str]) -> list[bool]:
        args: list[int | str] = [self.prefix]
        for url in urls:
            args.extend(url_hashes(url))
        return [bool(flag) for flag in self._add_many(keys=[self.meta_key], args=args)]

    def count(self) -> int:
        return int(self.client.hget(self.meta_key, "count") or 0)

    def layers(self) -> int:
        return int(self.client.hget(self.meta_key, "layers") or 1)

    def memory_bytes(self) -> int:
        """Bytes Redis uses for the layers (MEMORY USAGE)."""
        meta = {k.decode(): v.decode() for k, v in self.client.hgetall(self.meta_key).items()}
        capacity, error = float(meta["capacity"]), float(meta["error"])
        growth, tightening = float(meta["growth"]), float(meta["tightening"])
        total = 0
        for i in range(self.layers()):
            bits, _ = layer_size(capacity * growth**i, error * tightening**i)
            for key in chunk_keys(self.prefix, i, bits):
                total += int(self.client.memory_usage(key, samples=0) or 0)
        return total

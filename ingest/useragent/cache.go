package useragent

import "sync"

// maxCachedLen is the longest User-Agent a Cache keeps; longer ones are parsed every time.
const maxCachedLen = 512

// Cache is Parse with a bounded memory of the User-Agents seen lately: a collector sees the same
// few hundred strings over and over. It keeps at most size entries in two generations: when the
// newer one is full it becomes the older and the oldest is dropped, so a string used again
// within about size/2 distinct others stays cached (least recently used, roughly). Safe for
// concurrent use; the zero value is not usable, use NewCache.
type Cache struct {
	mu       sync.Mutex
	cur, old map[string]Agent
	half     int
}

// NewCache returns a Cache of at most size entries (at least 2).
func NewCache(size int) *Cache {
	half := max(1, size/2)
	return &Cache{cur: make(map[string]Agent, half), half: half}
}

// Parse is the package's Parse, through the cache.
func (c *Cache) Parse(ua string) Agent {
	if len(ua) > maxCachedLen {
		return Parse(ua)
	}
	c.mu.Lock()
	if a, ok := c.cur[ua]; ok {
		c.mu.Unlock()
		return a
	}
	a, ok := c.old[ua]
	c.mu.Unlock()
	if !ok {
		a = Parse(ua)
	}
	c.mu.Lock()
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]Agent, c.half)
	}
	c.cur[ua] = a
	c.mu.Unlock()
	return a
}

// Len is the number of entries held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

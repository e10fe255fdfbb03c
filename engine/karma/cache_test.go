package karma

import (
	"testing"
	"time"
)

func TestCacheEvictsTheOldestWrittenEntryWhenFull(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newScoreCache(2)
	c.put("a", 0.1, t0)
	c.put("b", 0.2, t0)
	c.put("a", 0.3, t0) // rewrite: a is now the newest
	c.put("c", 0.4, t0) // evicts b
	if c.len() != 2 {
		t.Fatalf("len = %d, want the bound 2", c.len())
	}
	if _, ok := c.get("b", t0, time.Minute); ok {
		t.Fatal("b survived although it was the oldest write")
	}
	if v, ok := c.get("a", t0, time.Minute); !ok || v != 0.3 {
		t.Fatalf("a = %v,%v, want 0.3", v, ok)
	}
}

func TestCacheEntryExpiresAtTTL(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newScoreCache(10)
	c.put("a", 0.7, t0)
	if _, ok := c.get("a", t0.Add(time.Minute-1), time.Minute); !ok {
		t.Fatal("entry expired before its TTL")
	}
	if _, ok := c.get("a", t0.Add(time.Minute), time.Minute); ok {
		t.Fatal("entry served at its TTL")
	}
}

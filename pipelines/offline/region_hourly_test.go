package offline

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

// randomHourEvents makes n events of a few users, sessions, services and regions as a block of
// region_hourly's columns.
func randomHourEvents(r *rand.Rand, n int) chsource.Block {
	b := chsource.Block{Len: n, Cols: make([]chsource.Col, len(hourEventColumns))}
	c := b.Cols
	for range n {
		c[heKey].Str = append(c[heKey].Str, fmt.Sprintf("u%d", r.IntN(6)))
		c[heSession].Uint = append(c[heSession].Uint, uint64(r.IntN(4))) // 0: no session
		c[heView].Uint = append(c[heView].Uint, uint64(r.IntN(2)))
		c[heService].Uint = append(c[heService].Uint, uint64(r.IntN(3))) // 0: none
		c[heRegion].Str = append(c[heRegion].Str, []string{"", "bad", "510104017001", "510104017002", "510104018000"}[r.IntN(5)])
	}
	return b
}

// hourSums runs the bundles through hourBundleFn, the batch coder and hourRollupFn (every
// shard's batches in one group: the merge path).
func hourSums(t *testing.T, parts ...chsource.Block) map[string]hourAcc {
	t.Helper()
	var batches []hourBatch
	for _, p := range parts {
		f := &hourBundleFn{Shards: 2}
		f.StartBundle(nil)
		f.ProcessElement(p, nil)
		f.FinishBundle(func(_ int, b hourBatch) {
			b, err := decodeHourBatch(encodeHourBatch(b))
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, b)
		})
	}
	g := &hourRollupFn{}
	g.StartBundle(nil)
	i := 0
	g.ProcessElement(0, func(b *hourBatch) bool {
		if i == len(batches) {
			return false
		}
		*b, i = batches[i], i+1
		return true
	}, nil)
	out := map[string]hourAcc{}
	g.FinishBundle(func(k string, a hourAcc) {
		if prev, ok := out[k]; ok {
			a = mergeHourAcc(prev, a)
		}
		out[k] = a
	})
	return out
}

// bruteHour counts the block directly: distinct users and (user, session) pairs per key.
func bruteHour(b chsource.Block) map[string]hourAcc {
	type key struct {
		region  string
		service uint32
	}
	users, sessions := map[key]map[string]bool{}, map[key]map[string]bool{}
	out := map[key]*hourAcc{}
	c := b.Cols
	for i := range b.Len {
		svcs := []uint32{0}
		if s := uint32(c[heService].Uint[i]); s != 0 {
			svcs = append(svcs, s)
		}
		for _, r := range regionPath(c[heRegion].Str[i]) {
			for _, s := range svcs {
				k := key{r.code, s}
				if out[k] == nil {
					out[k] = &hourAcc{Region: r.code, Level: r.level, Service: s}
					users[k], sessions[k] = map[string]bool{}, map[string]bool{}
				}
				a := out[k]
				a.Events++
				a.PageViews += c[heView].Uint[i]
				users[k][c[heKey].Str[i]] = true
				if c[heSession].Uint[i] != 0 {
					sessions[k][fmt.Sprint(c[heKey].Str[i], "/", c[heSession].Uint[i])] = true
				}
			}
		}
	}
	res := map[string]hourAcc{}
	for k, a := range out {
		a.Users, a.Sessions = uint64(len(users[k])), uint64(len(sessions[k]))
		res[fmt.Sprint(k.region, "/", k.service)] = *a
	}
	return res
}

// TestHourPartialsMerge: one bundle, two bundles through the coder and the merge path, and a
// brute-force count give the same sums.
func TestHourPartialsMerge(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 2))
		b := randomHourEvents(r, 200)
		cuts := []int{0, r.IntN(200), 200}
		slices.Sort(cuts)
		whole, parts, brute := hourSums(t, b), hourSums(t, slice(b, cuts[0], cuts[1]), slice(b, cuts[1], cuts[2])), bruteHour(b)
		if !reflect.DeepEqual(whole, brute) || !reflect.DeepEqual(parts, brute) {
			t.Fatalf("seed %d: one bundle\n%+v\ntwo\n%+v\nbrute force\n%+v", seed, whole, parts, brute)
		}
	}
}

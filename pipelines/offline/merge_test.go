package offline

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

// randomBlocks makes n events of a few users, sessions and services as blocks of user_daily's
// and service_daily's columns.
func randomEvents(r *rand.Rand, n int) (users, services chsource.Block) {
	users = chsource.Block{Len: n, Cols: make([]chsource.Col, len(userEventColumns))}
	services = chsource.Block{Len: n, Cols: make([]chsource.Col, len(serviceEventColumns))}
	for range n {
		key := fmt.Sprintf("u%d", r.IntN(5))
		session := uint64(r.IntN(4)) // 0: no session
		t := int64(1_700_000_000 + r.IntN(20_000))
		svc := uint64(r.IntN(4)) // 0: none
		region := []string{"", "510104017001", "510104017002"}[r.IntN(3)]
		c := users.Cols
		c[ueKey].Str = append(c[ueKey].Str, key)
		c[ueRegistered].Uint = append(c[ueRegistered].Uint, uint64(r.IntN(2)))
		c[ueSession].Uint = append(c[ueSession].Uint, session)
		c[ueView].Uint = append(c[ueView].Uint, uint64(r.IntN(2)))
		c[ueTime].Int = append(c[ueTime].Int, t)
		c[ueService].Uint = append(c[ueService].Uint, svc)
		c[ueRegion].Str = append(c[ueRegion].Str, region)
		c = services.Cols
		c[seKey].Str = append(c[seKey].Str, key)
		c[seSession].Uint = append(c[seSession].Uint, session)
		c[seKind].Uint = append(c[seKind].Uint, uint64(r.IntN(5)))
		c[seTime].Int = append(c[seTime].Int, t)
		c[seService].Uint = append(c[seService].Uint, svc)
	}
	return users, services
}

// slice cuts rows [from, to) of a block.
func slice(b chsource.Block, from, to int) chsource.Block {
	out := chsource.Block{Len: to - from, Cols: make([]chsource.Col, len(b.Cols))}
	for i, c := range b.Cols {
		switch {
		case c.Str != nil:
			out.Cols[i].Str = c.Str[from:to]
		case c.Int != nil:
			out.Cols[i].Int = c.Int[from:to]
		default:
			out.Cols[i].Uint = c.Uint[from:to]
		}
	}
	return out
}

// TestPartialsMerge: folding events in several bundles, passing the batches through their coders
// and merging them per user gives what one bundle gives, for user_daily and service_daily.
func TestPartialsMerge(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		ub, sb := randomEvents(r, 200)
		cuts := []int{0, r.IntN(200), 200}
		slices.Sort(cuts)
		users := func(parts ...chsource.Block) map[string]userAcc {
			out := map[string]userAcc{}
			for _, p := range parts {
				f := &userBundleFn{Shards: 3}
				f.StartBundle(nil)
				f.ProcessElement(p, nil)
				f.FinishBundle(func(_ int, b userBatch) {
					enc := encodeUserBatch(b)
					b, err := decodeUserBatch(enc)
					if err != nil {
						t.Fatal(err)
					}
					for i, k := range b.Keys {
						out[k] = mergeIfAny(out, k, b.Accs[i])
					}
				})
			}
			return out
		}
		whole, parts := users(ub), users(slice(ub, cuts[0], cuts[1]), slice(ub, cuts[1], cuts[2]))
		if !reflect.DeepEqual(whole, parts) {
			t.Fatalf("seed %d: users from one bundle\n%+v\nfrom two\n%+v", seed, whole, parts)
		}
		services := func(parts ...chsource.Block) map[uint32]serviceAcc {
			var batches []serviceBatch
			for _, p := range parts {
				f := &serviceBundleFn{Shards: 2}
				f.StartBundle(nil)
				f.ProcessElement(p, nil)
				f.FinishBundle(func(shard int, b serviceBatch) {
					b, err := decodeServiceBatch(encodeServiceBatch(b))
					if err != nil {
						t.Fatal(err)
					}
					batches = append(batches, b)
				})
			}
			g := &serviceUserFn{Window: 3600}
			g.StartBundle(nil)
			i := 0 // every shard's batches in one group: the merge path
			g.ProcessElement(0, func(b *serviceBatch) bool {
				if i == len(batches) {
					return false
				}
				*b, i = batches[i], i+1
				return true
			}, nil)
			out := map[uint32]serviceAcc{}
			g.FinishBundle(func(svc uint32, a serviceAcc) { out[svc] = a })
			return out
		}
		if w, p := services(sb), services(slice(sb, cuts[0], cuts[1]), slice(sb, cuts[1], cuts[2])); !reflect.DeepEqual(w, p) {
			t.Fatalf("seed %d: services from one bundle\n%+v\nfrom two\n%+v", seed, w, p)
		}
	}
}

func TestFunnelLevel(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
		want  int
	}{
		{"none", nil, 0},
		{"all in order", []step{{10, 0}, {20, 1}, {30, 2}}, 3},
		{"out of order", []step{{10, 1}, {20, 0}, {30, 2}}, 1},
		{"later chain completes", []step{{10, 1}, {20, 0}, {30, 1}, {40, 2}}, 3},
		{"past the window", []step{{0, 0}, {3600, 1}, {3601, 2}}, 2},
		{"a later start keeps the window", []step{{0, 0}, {5000, 0}, {5001, 1}, {8600, 2}}, 3},
		{"same second: lower steps first", []step{{5, 2}, {5, 1}, {5, 0}}, 3},
		{"no start", []step{{1, 1}, {2, 2}}, 0},
	}
	for _, c := range cases {
		if got := funnelLevel(c.steps, 3, 3600); got != c.want {
			t.Errorf("%s: level %d, want %d", c.name, got, c.want)
		}
	}
}

func TestRegionPath(t *testing.T) {
	cases := []struct {
		code string
		want []regionLevel
	}{
		{"510104017001", []regionLevel{{"510100000000", "city"}, {"510104000000", "district"}, {"510104017000", "street"}, {"510104017001", "community"}}},
		{"510104017000", []regionLevel{{"510100000000", "city"}, {"510104000000", "district"}, {"510104017000", "street"}}},
		{"510100000000", []regionLevel{{"510100000000", "city"}}},
		{"", []regionLevel{{"", ""}}},
		{"51010401700x", []regionLevel{{"", ""}}},
		{"5101", []regionLevel{{"", ""}}},
	}
	for _, c := range cases {
		if got := regionPath(c.code); !reflect.DeepEqual(got, c.want) {
			t.Errorf("regionPath(%q) = %v, want %v", c.code, got, c.want)
		}
	}
}

// FuzzCampaignOf: properties are what clients sent; reading them never panics, and a campaign
// read has an id and no NUL.
func FuzzCampaignOf(f *testing.F) {
	for _, s := range []string{`{"notice_id":"n001","channel":"push"}`, `{"activity_id":"a1"}`, `{}`, ``, `[1]`,
		`{"notice_id":"n\u0000","channel":"x"}`, `{"notice_id":5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, props string) {
		for _, kind := range []string{KindPush, KindActivity} {
			id, channel, ok := campaignOf(kind, props)
			if ok && (id == "" || slices.Contains([]rune(id+channel), 0)) {
				t.Errorf("campaignOf(%s, %q) = %q, %q, true", kind, props, id, channel)
			}
		}
	})
}

// FuzzDecoders: the batch coders refuse bad bytes with an error, never a panic.
func FuzzDecoders(f *testing.F) {
	f.Add(encodeUserBatch(userBatch{Keys: []string{"u"}, Accs: []userAcc{{Events: 1, Sessions: []span{{ID: 3}}, Services: []uint32{7}}}}))
	f.Add(encodeServiceBatch(serviceBatch{Keys: []string{"u"}, Users: []userServices{{Services: []serviceUse{{Service: 1, Steps: []step{{1, 0}}}}}}}))
	f.Add(encodeKeyedBatch(keyedBatch{Input: 1, Keys: []string{"a"}, Str: []string{"b"}, Nums: [][]uint64{{1, 2}}}))
	f.Add(encodeHourBatch(hourBatch{Keys: []string{"u"}, Cells: [][]hourCell{{{Region: "510104017001", Service: 3, Events: 2, Sessions: []uint64{5}}}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeUserBatch(b)
		_, _ = decodeServiceBatch(b)
		_, _ = decodeKeyedBatch(b)
		_, _ = decodeHourBatch(b)
	})
}

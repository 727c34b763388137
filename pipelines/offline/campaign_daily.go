package offline

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*campaignAcc)(nil)).Elem())
	register.DoFn2x0[chsource.Block, func(int, keyedBatch)](&campaignBundleFn{})
	register.DoFn3x0[int, func(*keyedBatch) bool, func(string, campaignAcc)](&campaignUserFn{})
	register.Function2x1(mergeCampaign)
	register.DoFn4x1[context.Context, string, campaignAcc, func(int, int64), error](&writeCampaignFn{})
	register.Emitter2[string, campaignAcc]()
}

// The campaign events. None of them is sent by the simulator (ingest/simulate) today;
// notice_click is in the tracking plan (docs/tracking-plan.md), notice_delivered would be sent
// by the push service for each notice it delivered, and activity_view / activity_join by the
// app's activity pages. Each carries its campaign in properties: notice_id and channel (push,
// sms, inbox, banner) for notices, activity_id for activities.
const (
	EventNoticeDelivered = "notice_delivered"
	EventNoticeClick     = "notice_click"
	EventActivityView    = "activity_view"
	EventActivityJoin    = "activity_join"
)

// Campaign kinds in dws_campaign_daily.kind.
const (
	KindPush     = "push"
	KindActivity = "activity"
)

// campaignEvent says what an event is to its campaign: its kind, and whether it is the reach
// (delivered, viewed) or the action (clicked, joined).
var campaignEvents = map[string]struct {
	kind   string
	action bool
}{
	EventNoticeDelivered: {KindPush, false}, EventNoticeClick: {KindPush, true},
	EventActivityView: {KindActivity, false}, EventActivityJoin: {KindActivity, true},
}

var campaignEventColumns = []chsource.Column{{Name: "user_key"}, {Name: "event"}, {Name: "properties"}}

var campaignColumns = []string{"event_date", "kind", "campaign_id", "channel", "reached_users", "acted_users",
	"converted_users", "actions", "rate", "computed_at"}

// campaignAcc is a campaign's sums.
type campaignAcc struct {
	Kind, ID, Channel         string
	Reached, Acted, Converted uint64
	Actions                   uint64
}

// buildCampaignDaily: campaign events → per (campaign, user), batched by user shard → grouped by
// shard → per campaign.
func buildCampaignDaily(s beam.Scope, opt Options, day, stage string) error {
	q := eventsQuery(day, campaignEventColumns, "type = 'track' AND event IN (?, ?, ?, ?)",
		EventNoticeDelivered, EventNoticeClick, EventActivityView, EventActivityJoin)
	blocks, err := chsource.Read(s, opt.Warehouse, q, opt.Source)
	if err != nil {
		return err
	}
	users := beam.GroupByKey(s, beam.ParDo(s, &campaignBundleFn{Shards: opt.Shards}, blocks))
	perCampaign := beam.CombinePerKey(s, mergeCampaign, beam.ParDo(s, &campaignUserFn{}, users))
	drain(s, beam.ParDo(s, &writeCampaignFn{W: newSinkWriter(opt, stage, campaignColumns, day)}, perCampaign))
	return nil
}

// campaignOf reads the campaign of an event from its properties; ok is false without an id.
func campaignOf(kind, properties string) (id, channel string, ok bool) {
	var p struct {
		NoticeID   string `json:"notice_id"`
		Channel    string `json:"channel"`
		ActivityID string `json:"activity_id"`
	}
	if json.Unmarshal([]byte(properties), &p) != nil {
		return "", "", false
	}
	if kind == KindPush {
		id, channel = p.NoticeID, p.Channel
	} else {
		id = p.ActivityID
	}
	// NUL joins the parts of a campaign key: an id or channel holding one is not a campaign's.
	return id, channel, id != "" && !strings.ContainsRune(id+channel, 0)
}

// campaignBundleFn folds a bundle's campaign events into one partial per (campaign, user) and
// emits them in one batch per user shard when the bundle ends: Keys are the users, Str the
// campaigns (kind, id, channel joined by NUL), Nums [reached, acted, actions].
type campaignBundleFn struct {
	Shards int

	accs map[[2]string]*[3]uint64
}

func (f *campaignBundleFn) StartBundle(_ func(int, keyedBatch)) { f.accs = map[[2]string]*[3]uint64{} }

func (f *campaignBundleFn) ProcessElement(b chsource.Block, _ func(int, keyedBatch)) {
	c := b.Cols
	for i := range b.Len {
		ce, known := campaignEvents[c[1].Str[i]]
		if !known {
			continue
		}
		id, channel, ok := campaignOf(ce.kind, c[2].Str[i])
		if !ok {
			continue
		}
		k := [2]string{c[0].Str[i], strings.Join([]string{ce.kind, id, channel}, "\x00")}
		a := f.accs[k]
		if a == nil {
			a = &[3]uint64{}
			f.accs[k] = a
		}
		if ce.action {
			a[1], a[2] = 1, a[2]+1
		} else {
			a[0] = 1
		}
	}
}

func (f *campaignBundleFn) FinishBundle(emit func(int, keyedBatch)) {
	batches := make([]keyedBatch, f.Shards)
	for k, a := range f.accs {
		b := &batches[shardOf(k[0], f.Shards)]
		b.Keys, b.Str, b.Nums = append(b.Keys, k[0]), append(b.Str, k[1]), append(b.Nums, a[:])
	}
	for i, b := range batches {
		if len(b.Keys) > 0 {
			emit(i, b)
		}
	}
	f.accs = nil
}

// campaignUserFn merges a shard's partials per (campaign, user) and sums them per campaign; the
// sums go out when the bundle ends.
type campaignUserFn struct {
	sums map[string]*campaignAcc
}

func (f *campaignUserFn) StartBundle(_ func(string, campaignAcc)) { f.sums = map[string]*campaignAcc{} }

func (f *campaignUserFn) ProcessElement(_ int, batches func(*keyedBatch) bool, _ func(string, campaignAcc)) {
	users := map[[2]string]*[3]uint64{}
	var b keyedBatch
	for batches(&b) {
		for i, user := range b.Keys {
			k := [2]string{user, b.Str[i]}
			a := users[k]
			if a == nil {
				a = &[3]uint64{}
				users[k] = a
			}
			n := b.Nums[i]
			a[0], a[1], a[2] = max(a[0], n[0]), max(a[1], n[1]), a[2]+n[2]
		}
	}
	for k, a := range users {
		sum := f.sums[k[1]]
		if sum == nil {
			parts := strings.SplitN(k[1], "\x00", 3)
			sum = &campaignAcc{Kind: parts[0], ID: parts[1], Channel: parts[2]}
			f.sums[k[1]] = sum
		}
		sum.Reached, sum.Acted, sum.Converted, sum.Actions = sum.Reached+a[0], sum.Acted+a[1], sum.Converted+a[0]*a[1], sum.Actions+a[2]
	}
}

func (f *campaignUserFn) FinishBundle(emit func(string, campaignAcc)) {
	for k, sum := range f.sums {
		emit(k, *sum)
	}
	f.sums = nil
}

func mergeCampaign(a, b campaignAcc) campaignAcc {
	a.Reached, a.Acted, a.Converted, a.Actions = a.Reached+b.Reached, a.Acted+b.Acted, a.Converted+b.Converted, a.Actions+b.Actions
	return a
}

type writeCampaignFn struct {
	W sinkWriter
}

func (f *writeCampaignFn) Setup(ctx context.Context) error { return f.W.open(ctx) }

func (f *writeCampaignFn) ProcessElement(ctx context.Context, _ string, a campaignAcc, _ func(int, int64)) error {
	return f.W.write(ctx, a.Kind, a.ID, a.Channel, a.Reached, a.Acted, a.Converted, a.Actions, ratio(a.Converted, a.Reached))
}

func (f *writeCampaignFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return f.W.flush(ctx, emit)
}

func (f *writeCampaignFn) Teardown(ctx context.Context) error { return f.W.Sink.Close(ctx) }

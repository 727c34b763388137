package collector

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/plan"
	"github.com/citypulse/citypulse/internal/bus"
)

// realPlan is the collector's view of a compiled tracking plan, as the stack wires it.
type realPlan struct{ c *plan.Checker }

func (p realPlan) Check(source string, e *event.Event) PlanVerdict {
	rej, flags := p.c.Check(source, e)
	return PlanVerdict{Reject: rej, Flags: flags}
}

// TestPlanCheckerNested runs a real plan with nested schemas: a violation deep in an array of
// objects reaches the client's answer and the dead letter with the full path of the bad value.
func TestPlanCheckerNested(t *testing.T) {
	p, err := plan.Parse([]byte(`
events:
  - name: fee_payment
    properties:
      cart:
        type: object
        required: true
        properties:
          items:
            type: array
            items:
              type: object
              properties:
                price: {type: number, required: true, max: 100000}
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := plan.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil, WithPlanChecker(realPlan{c}))
	body := `{"batch":[
	 {"type":"track","event":"fee_payment","userId":"u-0","messageId":"n-0","properties":{"cart":{"items":[{"price":1},{"price":2}]}}},
	 {"type":"track","event":"fee_payment","userId":"u-1","messageId":"n-1","properties":{"cart":{"items":[{"price":1},{"price":2},{"price":100001}]}}}]}`
	resp, b := e.post(t, "/v1/batch", devKey, []byte(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	const field = "properties.cart.items[2].price"
	got := decode[okBody](t, b)
	if got.Accepted != 1 || len(got.Rejected) != 1 || got.Rejected[0].Index != 1 || got.Rejected[0].Field != field {
		t.Fatalf("answer %s", b)
	}
	recs := e.consume(t, bus.DLQTopic, 1)
	var dl event.DeadLetter
	if err := json.Unmarshal(recs[0].Value, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Code != event.CodePlan || dl.Rule != plan.RuleMax || dl.Event != "fee_payment" || dl.Field != field ||
		dl.MessageID != "n-1" || dl.Index != 1 || !strings.Contains(dl.Reason, "100001 is more than the maximum 100000") {
		t.Errorf("dead letter %+v", dl)
	}
	if ok := e.consume(t, bus.EventsTopic, 1); !strings.Contains(string(ok[0].Value), `"messageId":"n-0"`) {
		t.Errorf("accepted event %s", ok[0].Value)
	}
	if got := counterValue(t, e.c.m.rejected.WithLabelValues("properties.cart.items[].price", event.CodePlan)); got != 1 {
		t.Errorf("rejected metric = %v", got)
	}
}

package plan

import (
	"fmt"
	"strconv"
)

// checkArray checks an array's elements in order against f.items, then its length. The
// elements past max_items are counted but not checked.
func (f *field) checkArray(val []byte) violation {
	var it elements
	if err := it.start(val); err != nil {
		return violation{rule: RuleType, reason: "must be a JSON array"}
	}
	n := 0
	for {
		el, ok, err := it.next()
		if err != nil {
			return violation{rule: RuleType, reason: "must be a JSON array"}
		}
		if !ok {
			break
		}
		if f.items != nil && !(f.hasMaxItems && n >= f.maxItems) {
			if v := f.items.check(el); v.rule != "" {
				v.path = "[" + strconv.Itoa(n) + "]" + v.path
				return v
			}
		}
		n++
	}
	if f.hasMaxItems && n > f.maxItems {
		return violation{rule: RuleMaxItems, reason: fmt.Sprintf("has %d items, more than the maximum %d", n, f.maxItems)}
	}
	if f.hasMinItems && n < f.minItems {
		return violation{rule: RuleMinItems, reason: fmt.Sprintf("has %d items, fewer than the minimum %d", n, f.minItems)}
	}
	return violation{}
}

package community

import (
	"fmt"
	"strconv"
	"time"
)

// Per-person yearly counts are geometric with these continue-probabilities: about 0.3 opinions
// per adult with a phone, 0.1 space bookings and 0.2 questionnaire answers.
const (
	opinionP = 0.23
	bookingP = 0.09
	surveyP  = 0.17
)

// events writes what a person did in the year before the as-of date: opinions to the hotline,
// bookings of their community's rooms and answers to its questionnaires. Only people with a
// mobile number take part: each row carries it, which links it to the person.
func (g *gen) events(p *person) {
	if p.mobile == "" || g.err != nil {
		return
	}
	age := g.asOf.Year() - p.birth.Year()
	r := g.rng
	if age >= 18 {
		for n := 0; n < 5 && r.Float64() < opinionP; n++ {
			g.opinion(p)
		}
		for n := 0; n < 5 && r.Float64() < bookingP; n++ {
			g.booking(p)
		}
	}
	if age >= 14 {
		for n := 0; n < 3 && r.Float64() < surveyP; n++ {
			g.surveyAnswer(p)
		}
	}
}

// yearBefore returns a random second of the year before the as-of time, between 08:00 and 22:00.
func (g *gen) yearBefore() time.Time {
	t := g.asOf.Add(-time.Duration(g.rng.Int64N(int64(365 * 24 * time.Hour))))
	return time.Date(t.Year(), t.Month(), t.Day(), 8+g.rng.IntN(14), g.rng.IntN(60), g.rng.IntN(60), 0, chinaTime)
}

var opinionChannels = []struct {
	label string
	share float64
}{{"市民云APP", 0.35}, {"12345热线", 0.4}, {"社区窗口", 0.1}, {"网格员走访", 0.1}, {"小程序", 0.05}}

// opinion writes one opinion of p as the hotline platform reports it: labels, ISO 8601 times.
func (g *gen) opinion(p *person) {
	r := g.rng
	t := opinionTopics[r.IntN(len(opinionTopics))]
	shares := make([]float64, len(opinionChannels))
	for i, c := range opinionChannels {
		shares[i] = c.share
	}
	submitted := g.yearBefore()
	place := p.house.cp.name
	row := map[string]string{
		"opinion_id":  fmt.Sprintf("RX%s%07d", submitted.Format("20060102"), g.serial("opinion")),
		"region_code": g.city.comms[p.comm].code, "category": t.label,
		"channel": opinionChannels[pick(r, shares)].label, "title": place + t.title,
		"content":          fmt.Sprintf(t.content, place+p.house.building+"栋") + "\n联系人：" + string([]rune(p.name)[:1]) + map[bool]string{true: "先生", false: "女士"}[p.male],
		"submitter_mobile": p.mobile, "submitted_at": submitted.Format("2006-01-02T15:04:05+08:00"),
		"status": "", "closed_at": "", "satisfaction": "",
	}
	age := g.asOf.Sub(submitted)
	switch u := r.Float64(); {
	case age < 3*24*time.Hour || u < 0.05:
		row["status"] = "待受理"
	case age < 15*24*time.Hour && u < 0.5:
		row["status"] = "办理中"
	case u < 0.08:
		row["status"] = "不予受理"
		row["closed_at"] = submitted.Add(time.Duration(1+r.IntN(48)) * time.Hour).Format("2006-01-02T15:04:05+08:00")
	default:
		row["status"] = "已办结"
		closed := submitted.Add(time.Duration(2+r.IntN(24*10)) * time.Hour)
		if closed.After(g.asOf) {
			closed = g.asOf.Add(-time.Hour)
		}
		row["closed_at"] = closed.Format("2006-01-02T15:04:05+08:00")
		if r.Float64() < 0.7 {
			row["satisfaction"] = strconv.Itoa(1 + pick(r, []float64{0.05, 0.07, 0.18, 0.3, 0.4}))
		}
	}
	g.emit(SourceHotline, DatasetOpinion, row, plantCtx{comm: p.comm})
}

// booking writes one booking of a room of p's community, as the community office reports it.
func (g *gen) booking(p *person) {
	r := g.rng
	spaces := g.spacesOf(p.comm)
	sp := spaces[r.IntN(len(spaces))]
	booked := g.yearBefore()
	start := booked.AddDate(0, 0, 1+r.IntN(14))
	start = time.Date(start.Year(), start.Month(), start.Day(), 8+r.IntN(12), 0, 0, 0, chinaTime)
	end := start.Add(time.Duration(1+r.IntN(3)) * time.Hour)
	status := []string{"2", "2", "2", "3", "4"}[r.IntN(5)]
	if start.After(g.asOf) {
		status = []string{"1", "1", "3"}[r.IntN(3)]
	}
	attendees := ""
	if status == "2" {
		attendees = strconv.Itoa(1 + r.IntN(30))
	}
	row := map[string]string{
		"booking_id": fmt.Sprintf("YY%s%07d", booked.Format("20060102"), g.serial("booking")), "space_id": sp.id,
		"space_name": sp.name, "space_type": sp.kind, "region_code": g.city.comms[p.comm].code, "booker_mobile": p.mobile,
		"start_at": start.Format(time.DateTime), "end_at": end.Format(time.DateTime), "attendees": attendees,
		"status": status, "booked_at": booked.Format(time.DateTime),
	}
	g.emit(SourceCommunity, DatasetSpaceBooking, row, plantCtx{comm: p.comm})
}

// survey is a questionnaire of a community.
type survey struct {
	id, title, category string
	questions           int
	from                time.Time
}

var surveyKinds = []struct{ category, title string }{
	{"1", "年度社区服务满意度调查"}, {"2", "居民养老服务需求调查"}, {"3", "小区停车改造意见征集"},
	{"4", "居民疫苗接种信息登记"}, {"2", "社区托育服务需求调查"}, {"3", "老旧小区改造方案意见征集"},
}

// surveyAnswer writes p's answer to a questionnaire of their community, making the community's
// questionnaires the first time one is answered.
func (g *gen) surveyAnswer(p *person) {
	r := g.rng
	cm := g.city.comms[p.comm]
	if cm.surveys == nil {
		for n := 1 + r.IntN(3); len(cm.surveys) < n; {
			k := surveyKinds[r.IntN(len(surveyKinds))]
			cm.surveys = append(cm.surveys, survey{
				id: fmt.Sprintf("WJ%s%05d", cm.code, g.serial("survey")), title: cm.short() + k.title, category: k.category,
				questions: 5 + r.IntN(26), from: g.asOf.AddDate(0, 0, -30-r.IntN(330)),
			})
		}
	}
	s := cm.surveys[r.IntN(len(cm.surveys))]
	at := s.from.Add(time.Duration(r.Int64N(int64(g.asOf.Sub(s.from)))))
	completed := r.Float64() < 0.85
	answered := s.questions
	if !completed {
		answered = r.IntN(s.questions)
	}
	row := map[string]string{
		"response_id": fmt.Sprintf("DJ%s%08d", s.id[2:8], g.serial("response")), "survey_id": s.id, "survey_title": s.title,
		"category": s.category, "region_code": cm.code, "respondent_mobile": p.mobile,
		"submitted_at": at.Truncate(time.Second).Format(time.DateTime), "completed": strconv.FormatBool(completed),
		"answered": strconv.Itoa(answered), "satisfaction": "",
	}
	if s.category == "1" && completed {
		row["satisfaction"] = strconv.Itoa(1 + pick(r, []float64{0.04, 0.06, 0.2, 0.35, 0.35}))
	}
	g.emit(SourceCommunity, DatasetSurvey, row, plantCtx{comm: p.comm})
}

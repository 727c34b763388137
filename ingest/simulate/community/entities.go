package community

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// orgKind is a kind of market entity with how it is registered and named.
type orgKind struct {
	code, label string  // org_type
	share       float64 // of all entities
	depts       []string
	industries  []string
}

var orgKinds = []orgKind{
	{"1", "企业", 0.60, []string{"91"}, []string{"批发和零售业", "租赁和商务服务业", "科学研究和技术服务业", "住宿和餐饮业", "建筑业", "信息传输、软件和信息技术服务业"}},
	{"2", "个体工商户", 0.34, []string{"92"}, []string{"零售业", "餐饮业", "居民服务业"}},
	{"3", "社会组织", 0.015, []string{"51", "52"}, []string{"社会工作", "文化艺术业"}},
	{"4", "机关事业单位", 0.01, []string{"11", "12"}, []string{"公共管理和社会组织", "卫生", "教育"}},
	{"5", "农民专业合作社", 0.01, []string{"93"}, []string{"农业"}},
	{"6", "小区物业", 0.025, []string{"91"}, []string{"物业管理"}},
}

var orgStatuses = []struct {
	code, label string
	share       float64
}{{"1", "存续", 0.86}, {"2", "歇业", 0.04}, {"3", "注销", 0.06}, {"4", "吊销", 0.02}, {"5", "迁出", 0.02}}

// org writes one market entity, as market regulation reports it (labels, slashed dates).
func (g *gen) org() {
	r := g.rng
	ci := g.city.sampleHome(r)
	cm := g.city.comms[ci]
	shares := make([]float64, len(orgKinds))
	for i, k := range orgKinds {
		shares[i] = k.share
	}
	k := orgKinds[pick(r, shares)]
	uscc := newUSCC(k.depts[r.IntN(len(k.depts))], cm.code[:6], g.serial("uscc"))
	district := g.city.districts[cm.code[:6]]
	word := compoundWords[r.IntN(len(compoundWords))]
	var name string
	switch k.code {
	case "1":
		name = g.city.short + word + bizWords[r.IntN(len(bizWords))] + "有限公司"
	case "2":
		name = district + string(surnames[r.IntN(len(surnames))]) + "记" + shopWords[r.IntN(len(shopWords))]
	case "3":
		name = cm.short() + socialOrgWords[r.IntN(len(socialOrgWords))]
	case "4":
		name = cm.short() + publicBodyWords[r.IntN(len(publicBodyWords))]
	case "5":
		name = district + word + "种植专业合作社"
	case "6":
		name = g.city.short + word + "物业服务有限公司"
		g.propertyCo[cm.code[:6]] = append(g.propertyCo[cm.code[:6]], uscc)
	}
	shares = shares[:0]
	for _, s := range orgStatuses {
		shares = append(shares, s.share)
	}
	st := orgStatuses[pick(r, shares)]
	row := map[string]string{
		"uscc": uscc, "name": name, "org_type": k.label, "status": st.label, "region_code": cm.code,
		"address":      g.city.place(ci) + roadWords[r.IntN(len(roadWords))] + roadSuffixes[r.IntN(len(roadSuffixes))] + strconv.Itoa(1+r.IntN(500)) + "号",
		"legal_person": g.personName(r.IntN(10) < 6, 0), "contact_mobile": "",
		"established_date": g.dateBetween(time.Date(1995, 1, 1, 0, 0, 0, 0, chinaTime), g.asOf.AddDate(0, 0, -1)).Format("2006/01/02"),
		"employees":        "", "industry": k.industries[r.IntN(len(k.industries))],
	}
	if r.Float64() < 0.9 {
		row["contact_mobile"] = g.mobile()
	}
	switch k.code {
	case "2":
		row["employees"] = strconv.Itoa(1 + r.IntN(5))
	default:
		row["employees"] = strconv.Itoa(int(math.Min(50000, math.Exp(1.5+1.3*math.Abs(r.NormFloat64())))))
	}
	g.emit(SourceMarket, DatasetOrg, row, plantCtx{comm: ci})
}

// facilityKinds are the facility categories generated besides service-centre rooms, with names.
var facilityKinds = []struct {
	code  string
	names []string
	share float64
}{
	{"01", []string{"室外消火栓", "微型消防站", "灭火器箱"}, 0.22},
	{"02", []string{"高清监控探头", "人脸识别门禁", "高空抛物监控"}, 0.2},
	{"03", []string{"电梯"}, 0.15},
	{"04", []string{"电动自行车充电桩", "汽车充电桩"}, 0.1},
	{"05", []string{"太阳能路灯", "庭院灯"}, 0.08},
	{"06", []string{"全民健身路径", "乒乓球台"}, 0.07},
	{"07", []string{"地面停车场", "非机动车棚"}, 0.05},
	{"08", []string{"垃圾分类投放点", "可回收物回收站"}, 0.06},
	{"09", []string{"二次供水泵房", "雨水井"}, 0.03},
	{"10", []string{"公共厕所"}, 0.02},
	{"12", []string{"日间照料中心", "社区托育点", "老年食堂"}, 0.02},
}

var facilityStatusShares = []float64{0.88, 0.05, 0.04, 0.02, 0.01} // codes 1..5

// facility writes one facility of community ci of a drawn category.
func (g *gen) facility(ci int) {
	shares := make([]float64, len(facilityKinds))
	for i, k := range facilityKinds {
		shares[i] = k.share
	}
	k := facilityKinds[pick(g.rng, shares)]
	g.writeFacility(ci, k.code, g.city.comms[ci].short()+k.names[g.rng.IntN(len(k.names))]+strconv.Itoa(1+g.rng.IntN(20))+"号")
}

// writeFacility writes a facility row and returns its id.
func (g *gen) writeFacility(ci int, category, name string) string {
	r := g.rng
	cm := g.city.comms[ci]
	id := fmt.Sprintf("SS%s%06d", cm.code, g.serial("facility"))
	installed := g.dateBetween(time.Date(2005, 1, 1, 0, 0, 0, 0, chinaTime), g.asOf.AddDate(0, -1, 0))
	box := g.city.box
	row := map[string]string{
		"facility_id": id, "name": name, "category": category, "status": strconv.Itoa(1 + pick(r, facilityStatusShares)),
		"region_code": cm.code, "address": g.city.place(ci) + cm.short() + roadWords[r.IntN(len(roadWords))] + "路" + strconv.Itoa(1+r.IntN(300)) + "号",
		"longitude":      strconv.FormatFloat(math.Round((box[0]+r.Float64()*(box[1]-box[0]))*1e6)/1e6, 'f', -1, 64),
		"latitude":       strconv.FormatFloat(math.Round((box[2]+r.Float64()*(box[3]-box[2]))*1e6)/1e6, 'f', -1, 64),
		"installed_date": installed.Format(time.DateOnly), "manager_uscc": "",
		"checked_at": g.asOf.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour)))).Truncate(time.Second).Format(time.DateTime),
	}
	if cos := g.propertyCo[cm.code[:6]]; len(cos) > 0 && r.Float64() < 0.7 {
		row["manager_uscc"] = cos[r.IntN(len(cos))]
	}
	g.emit(SourceCommunity, DatasetFacility, row, plantCtx{comm: ci})
	return id
}

// space is a bookable room of a community service centre; it is also a facility.
type space struct {
	id, name, kind string // kind: space_type code
}

// spaceKinds are the rooms of a community service centre (党群服务中心) and their facility
// categories.
var spaceKinds = []struct{ kind, name, category string }{
	{"1", "会议室", "11"}, {"2", "多功能活动室", "11"}, {"4", "图书阅览室", "11"}, {"3", "室外运动场", "06"}, {"5", "共享厨房", "11"},
}

// spacesOf returns the bookable rooms of community ci, writing them as facilities the first
// time: one or two, so that at high scale factors, where most communities have a few residents,
// rooms do not swamp the scaled other facilities.
func (g *gen) spacesOf(ci int) []space {
	cm := g.city.comms[ci]
	if cm.spaces == nil {
		start := g.rng.IntN(len(spaceKinds))
		for i, n := 0, 1+g.rng.IntN(2); i < n; i++ {
			k := spaceKinds[(start+i)%len(spaceKinds)]
			name := cm.short() + "党群服务中心" + k.name
			cm.spaces = append(cm.spaces, space{id: g.writeFacility(ci, k.category, name), name: name, kind: k.kind})
		}
	}
	return cm.spaces
}

var activityKinds = []struct {
	code   string
	titles []string
}{
	{"01", []string{"广场舞展演", "书法绘画交流会", "乒乓球友谊赛", "社区合唱排练"}},
	{"02", []string{"环境清洁志愿服务", "文明交通劝导", "爱心义剪"}},
	{"03", []string{"主题党日活动", "党员先锋岗志愿服务"}},
	{"04", []string{"防诈骗知识讲座", "垃圾分类培训", "消防安全讲座"}},
	{"05", []string{"健康义诊", "中医养生讲座", "免费测血压"}},
	{"06", []string{"亲子手工课", "暑期托管班", "绘本共读"}},
	{"07", []string{"老年人智能手机课堂", "重阳节敬老宴", "助老上门服务"}},
	{"08", []string{"邻里百家宴", "邻里节游园会"}},
}

// activity writes one community activity of the past year or the coming month.
func (g *gen) activity() {
	r := g.rng
	ci := g.city.sampleHome(r)
	cm := g.city.comms[ci]
	k := activityKinds[r.IntN(len(activityKinds))]
	start := g.asOf.Add(time.Duration(r.Int64N(int64(395*24*time.Hour))) - 365*24*time.Hour).Truncate(time.Hour)
	hour := 9 + r.IntN(10)
	start = time.Date(start.Year(), start.Month(), start.Day(), hour, 30*r.IntN(2), 0, 0, chinaTime)
	end := start.Add(time.Duration(1+r.IntN(3)) * time.Hour)
	capacity := 20 + 10*r.IntN(10)
	signups := r.IntN(capacity + 1)
	status, participants := "3", signups-r.IntN(signups/4+1)
	switch {
	case r.Float64() < 0.04:
		status, participants = "4", 0
	case start.After(g.asOf):
		status, participants = "1", 0
	case end.After(g.asOf):
		status = "2"
	}
	row := map[string]string{
		"activity_id": fmt.Sprintf("HD%s%06d", cm.code[:6], g.serial("activity")), "title": cm.short() + k.titles[r.IntN(len(k.titles))],
		"category": k.code, "region_code": cm.code, "organizer": cm.name, "status": status,
		"start_at": start.Format(time.DateTime), "end_at": end.Format(time.DateTime),
		"capacity": strconv.Itoa(capacity), "signups": strconv.Itoa(signups), "participants": strconv.Itoa(max(participants, 0)),
	}
	if r.Float64() < 0.2 {
		row["end_at"] = ""
	}
	g.emit(SourceCommunity, DatasetActivity, row, plantCtx{comm: ci})
}

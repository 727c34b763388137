package dimdata

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed regions_*.tsv services_chengdu_230.tsv
var files embed.FS

// Region levels, from the top.
const (
	LevelCity      = "city"
	LevelDistrict  = "district"
	LevelStreet    = "street"
	LevelCommunity = "community"
)

// Region is one row of the statistical division table.
type Region struct {
	Code       string // 12 digits
	Name       string
	Level      string // LevelCity … LevelCommunity
	ParentCode string // "" for the city
}

// Service is one entry of the service catalogue.
type Service struct {
	ID       uint32
	Name     string
	Category string
}

// Cities lists the city codes (12 digits) that have embedded region data.
func Cities() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "regions_") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(n, "regions_"), ".tsv")+"00000000")
		}
	}
	sort.Strings(out)
	return out
}

// Regions returns every region of the city with the given code (12 digits, e.g. 510100000000, or
// its 4-digit prefix 5101), city first, then in file order.
func Regions(cityCode string) ([]Region, error) {
	prefix := cityCode
	if len(prefix) == 12 {
		prefix = prefix[:4]
	}
	if len(prefix) != 4 {
		return nil, fmt.Errorf("city code %q: want 12 digits (e.g. 510100000000) or a 4-digit prefix", cityCode)
	}
	name := "regions_" + prefix + ".tsv"
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("city code %q: no region data (have %s)", cityCode, strings.Join(Cities(), ", "))
	}
	rows, err := readTSV(name, b, 4)
	if err != nil {
		return nil, err
	}
	out := make([]Region, 0, len(rows))
	for i, r := range rows {
		reg := Region{Code: r[0], Name: r[1], Level: r[2], ParentCode: r[3]}
		if err := reg.validate(); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, i+2, err)
		}
		out = append(out, reg)
	}
	return out, nil
}

func (r Region) validate() error {
	if len(r.Code) != 12 || strings.Trim(r.Code, "0123456789") != "" {
		return fmt.Errorf("code %q: want 12 digits", r.Code)
	}
	switch r.Level {
	case LevelCity:
		if r.ParentCode != "" {
			return fmt.Errorf("city %s has a parent", r.Code)
		}
	case LevelDistrict, LevelStreet, LevelCommunity:
		if len(r.ParentCode) != 12 {
			return fmt.Errorf("%s %s: parent_code %q: want 12 digits", r.Level, r.Code, r.ParentCode)
		}
	default:
		return fmt.Errorf("code %s: unknown level %q", r.Code, r.Level)
	}
	if r.Name == "" {
		return fmt.Errorf("code %s: empty name", r.Code)
	}
	return nil
}

// Prefix returns the significant prefix of a region code at its level: 4 digits for a city, 6 for
// a district, 9 for a street, 12 for a community. Every descendant's code starts with it.
func Prefix(code, level string) string {
	n := PrefixLen(level)
	if n == 0 || len(code) < n {
		return code
	}
	return code[:n]
}

// PrefixLen is the number of significant digits of a code at the level (0 for an unknown level).
func PrefixLen(level string) int {
	switch level {
	case LevelCity:
		return 4
	case LevelDistrict:
		return 6
	case LevelStreet:
		return 9
	case LevelCommunity:
		return 12
	}
	return 0
}

// LevelOf infers the level of a well-formed 12-digit code from its trailing zeros.
func LevelOf(code string) string {
	switch {
	case len(code) != 12:
		return ""
	case strings.HasSuffix(code, "00000000"):
		return LevelCity
	case strings.HasSuffix(code, "000000"):
		return LevelDistrict
	case strings.HasSuffix(code, "000"):
		return LevelStreet
	}
	return LevelCommunity
}

// Services returns the 230-service catalogue with a category for each entry.
func Services() ([]Service, error) {
	const name = "services_chengdu_230.tsv"
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	rows, err := readTSV(name, b, 2)
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(rows))
	for i, r := range rows {
		id, err := strconv.ParseUint(r[0], 10, 32)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("%s line %d: seq %q: want a positive integer", name, i+2, r[0])
		}
		out = append(out, Service{ID: uint32(id), Name: r[1], Category: Categorize(r[1])})
	}
	return out, nil
}

// categoryRules are tried in order; the first whose keyword occurs in the name wins.
var categoryRules = []struct {
	category string
	keywords []string
}{
	{"社保医保", []string{"社保", "医保", "养老待遇", "年金", "大病互助", "离退休", "惠民惠农"}},
	{"公积金", []string{"公积金"}},
	{"住房房产", []string{"房屋", "住保", "购房", "租赁", "无房", "房源", "商品房", "不动产", "公租房", "廉租", "维修资金", "安居", "测绘", "预售", "住房", "白蚁", "小区业主", "信托物业", "存量房"}},
	{"医疗健康", []string{"医", "健康", "献血", "接种", "免疫", "出生医学", "儿童保健", "助产", "计生", "门诊", "犬伤", "华西", "中医"}},
	{"交通出行", []string{"交通", "驾驶", "行驶", "公交", "地铁", "乘车", "单车", "滴滴", "机场", "停车", "充电桩", "出租车", "火车", "道路"}},
	{"教育培训", []string{"教育", "入学", "划片", "小升初", "中考", "学生卡", "课堂", "学院", "会计"}},
	{"文体旅游", []string{"文化", "体育", "书目", "借阅", "图书", "阅读", "读者证", "展会", "美景", "酒店", "科普", "GoChengdu"}},
	{"就业人才", []string{"人才", "招聘", "人事", "蓉漂", "蓉城驿站"}},
	{"法律政务", []string{"户政", "法律", "律师", "律所", "诉讼", "司法", "公证", "检察", "12348", "行政许可", "行政处罚", "信用", "失信", "信访", "12345", "办件", "到档", "和合智解", "反诈", "入户", "美签", "城管", "个税", "减税", "缴款记录", "代理记账", "税"}},
	{"社区服务", []string{"社区", "网格", "志愿", "社治", "问卷", "居民", "党", "社会组织", "院落", "蓉城金秋", "青年之家", "分享服务", "社工"}},
	{"生活服务", []string{"缴费", "菜价", "快递", "寄件", "公厕", "生活", "天气", "气象", "空气", "用电", "燃气", "垃圾", "收衣", "益农", "金熊猫", "智会云", "科创通", "物流"}},
	{"新闻资讯", []string{"新闻", "要情", "观察", "通知公告", "播报"}},
}

// OtherCategory is given to a service no rule matches.
const OtherCategory = "其他"

// Categorize returns the category of a service name.
func Categorize(name string) string {
	for _, r := range categoryRules {
		for _, k := range r.keywords {
			if strings.Contains(name, k) {
				return r.category
			}
		}
	}
	return OtherCategory
}

func readTSV(name string, b []byte, cols int) ([][]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var rows [][]string
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue // header
		}
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) < cols {
			f = append(f, make([]string, cols-len(f))...)
		}
		if len(f) != cols {
			return nil, fmt.Errorf("%s line %d: %d fields, want %d", name, line, len(f), cols)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		rows = append(rows, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return rows, nil
}
